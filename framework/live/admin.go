package live

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// Status is what the admin GET /status returns.
type Status struct {
	SwitchStatus
	// Mode and SamplingRate are the mirror mode in force and the fraction
	// of matched requests it mirrors.
	Mode         string  `json:"mode"`
	SamplingRate float64 `json:"samplingRate"`
	// Queue is how many copies wait for a shadow worker, of QueueSize.
	Queue     int `json:"queue"`
	QueueSize int `json:"queueSize"`
	// Endpoints are the compared and matched pairs so far.
	Endpoints []EndpointStatus `json:"endpoints"`
	// Ramp is mirror.ramp's state, when the session has one.
	Ramp *RampStatus `json:"ramp,omitempty"`
}

// EndpointStatus is one endpoint's pairs so far.
type EndpointStatus struct {
	Name      string  `json:"name"`
	Pairs     int64   `json:"pairs"`
	Matched   int64   `json:"matched"`
	MatchRate float64 `json:"matchRate"`
}

// Status returns the session's state.
func (s *Shadow) Status() Status {
	plan := s.Plan()
	st := Status{SwitchStatus: s.kill.Status(), Mode: plan.Mirror.Mode, SamplingRate: samplingRate(plan), Queue: len(s.queue), QueueSize: cap(s.queue)}
	s.results.Snapshot(func(r *observe.Results) {
		for _, e := range r.Endpoints {
			st.Endpoints = append(st.Endpoints, EndpointStatus{Name: e.Name, Pairs: e.Pairs, Matched: e.Matches, MatchRate: e.MatchRate()})
		}
	})
	if r := s.ramp.Load(); r != nil {
		rs := r.Status()
		st.Ramp = &rs
	}
	return st
}

// maxReasonBytes bounds the reason POST /kill records.
const maxReasonBytes = 200

// Admin returns the admin handler of a session: GET /metrics (Prometheus),
// GET /status (JSON), and, with "Authorization: Bearer TOKEN", POST /kill,
// POST /resume and POST /rate?value=R. With an empty token the POST
// endpoints answer 403: control is never open to anyone who can connect.
func Admin(s *Shadow, token string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(s.Status())
	})
	control := func(do func(r *http.Request) (string, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if token == "" {
				http.Error(w, "control is off: start the proxy with its admin token in the environment (see --admin-token-env)", http.StatusForbidden)
				return
			}
			given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			// Digests of equal length: ConstantTimeCompare returns at once
			// on a length mismatch, which would time the token's length.
			givenSum, tokenSum := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(token))
			if !ok || subtle.ConstantTimeCompare(givenSum[:], tokenSum[:]) != 1 {
				http.Error(w, "want Authorization: Bearer <admin token>", http.StatusUnauthorized)
				return
			}
			msg, err := do(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintln(w, msg)
		}
	}
	mux.HandleFunc("POST /kill", control(func(r *http.Request) (string, error) {
		// One line, bounded: the reason is printed on stderr, in /status,
		// the results and the JUnit.
		reason := scrub.Line(r.URL.Query().Get("reason"))
		if len(reason) > maxReasonBytes {
			reason = strings.ToValidUTF8(reason[:maxReasonBytes], "") + "…"
		}
		if reason == "" {
			reason = "POST /kill from " + r.RemoteAddr
		}
		if !s.kill.Trip(TriggerAdmin, reason) {
			return "already stopped: " + s.kill.Status().LastTrip, nil
		}
		s.logf("shadowtest: %s\n", s.kill.Status().LastTrip)
		return "mirroring stopped", nil
	}))
	mux.HandleFunc("POST /resume", control(func(*http.Request) (string, error) {
		if !s.kill.Resume() {
			return "mirroring was not stopped", nil
		}
		s.logf("shadowtest: kill switch reset from the admin endpoint: mirroring resumed\n")
		return "mirroring resumed", nil
	}))
	mux.HandleFunc("POST /rate", control(func(r *http.Request) (string, error) {
		v, err := strconv.ParseFloat(r.URL.Query().Get("value"), 64)
		if err != nil {
			return "", fmt.Errorf("want POST /rate?value=R with 0 < R <= 1")
		}
		if err := s.SetRate(v); err != nil {
			return "", err
		}
		s.logf("shadowtest: sampling rate set to %g from the admin endpoint\n", v)
		return fmt.Sprintf("sampling rate %g", v), nil
	}))
	return mux
}

// LoopbackHostsOnly guards an admin handler against DNS rebinding: a web
// page a browser on the same machine loads can make the browser send
// requests to 127.0.0.1 under the page's own host name and read the
// answers. A request that arrived over a loopback address (whatever
// address the listener is bound to: 127.0.0.1, or a wildcard reached
// through 127.0.0.1) must name a loopback IP literal or "localhost" as its
// Host, or it is answered 421 Misdirected Request. Requests over other
// addresses (a scraper using a service name) pass.
func LoopbackHostsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && isLoopbackAddr(local) && !isLoopbackHost(r.Host) {
			http.Error(w, "this admin endpoint answers requests over loopback for a loopback host only (127.0.0.1, [::1] or localhost)", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopbackAddr(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
