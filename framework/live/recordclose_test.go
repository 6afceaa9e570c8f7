package live

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// A request that outlives the server's shutdown (Shutdown's grace ran
// out, the session and its recorder were closed) is offered after
// Close: it used to send on the recorder's closed queue, and the panic
// cost the application's client its answer, still in the server's
// buffer (redteam6). Now it is dropped and counted, and the client gets
// the answer as written.
func TestARequestOfferedAfterTheRecorderClosedKeepsItsAnswer(t *testing.T) {
	shadow := serve(t, item("12.5"))
	plan := testPlan("http://prod.invalid", shadow.URL)
	rec, _ := newTestRecorder(t, filepath.Join(t.TempDir(), "live.jsonl"), RecordOptions{})
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{Record: rec.Record})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release // a slow handler, still at work when the service stops
		item("12.5")(w, r)
	})))
	defer srv.Close()

	type answer struct {
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/items/1")
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{string(b), err}
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	srv.Config.Shutdown(ctx) // its grace runs out: the handler is still at work
	cancel()
	s.Close()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	close(release)
	select {
	case a := <-got:
		if want := `{"path":"/items/1","name":"widget","price":12.5}`; a.err != nil || a.body != want {
			t.Fatalf("the client got %q, %v; want the application's answer %q", a.body, a.err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
	}
	if c := rec.Counts(); c.Dropped != 1 || c.Written != 0 {
		t.Errorf("counts %+v: want the late exchange dropped", c)
	}
}
