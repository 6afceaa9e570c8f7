package live

import (
	"net/http"
	"time"

	"github.com/shadowtest/shadowtest/framework/internal/mirror"
)

// Middleware mirrors the requests an application serves itself, for teams
// that shadow from inside the service rather than through the proxy. The
// application's own answer goes to its client as written, and is what
// the shadow's answer is compared with; the copy is sent asynchronously
// through the session's queue, compared with the same comparator and
// counted in the same metrics and aggregates. It never blocks or alters
// the application's response: the only work on the request path is
// keeping a copy of the bodies (up to mirror.maxBodyBytes, within the
// budget of captures in flight, and none when nothing will use it: a
// tripped kill switch and no recorder, for one) and a non-blocking queue
// send. Upgrade requests pass through unmirrored.
func (s *Shadow) Middleware(next http.Handler) http.Handler {
	limit := s.Plan().Mirror.MaxBodyBytes
	if limit <= 0 {
		limit = mirror.DefaultMaxBodyBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		req := requestOf(r, false)
		t := s.begin(&req)
		if t == nil {
			next.ServeHTTP(w, r)
			return
		}
		if !s.copies(t, &req) {
			next.ServeHTTP(w, r)
			s.pass(t, start, req)
			return
		}
		body := teeRequest(r, limit, &s.captures)
		rec := &recorder{ResponseWriter: w, limit: limit, head: r.Method == http.MethodHead, body: capture{budget: &s.captures}}
		defer releaseCaptures(body, rec) // also when next panics
		served := time.Now()
		next.ServeHTTP(rec, r)
		latency := time.Since(served)
		if r.Context().Err() != nil {
			// The client went away while the application answered: it
			// may have stopped short of a whole answer.
			rec.failed = true
		}
		prod := rec.response(nil, latency)
		s.finish(t, start, req, body, rec, &prod)
		s.metrics.added.Observe(max(time.Since(start)-latency, 0).Seconds())
	})
}
