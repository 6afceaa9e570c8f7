package live

import (
	"net/http"
	"runtime"
	"strconv"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// A HEAD answer announces its GET's Content-Length and has no body: the
// recorder reserved that length (up to the body cap) for a copy that
// never comes, 8 MiB zeroed per HEAD request of a large resource, on the
// prod path (redteam6). A body that cannot come is not reserved.
func TestAHeadAnswerReservesNoCopy(t *testing.T) {
	const size = 8 << 20
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(make([]byte, size))
	})
	shadow := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
	})
	plan := testPlan(prod.URL, shadow.URL)
	plan.Mirror.MaxBodyBytes = size
	plan.Endpoints = append(plan.Endpoints, framework.Endpoint{Name: "head", Method: "HEAD", Path: "/files/{id}", Rules: framework.Rules{Headers: []string{"Content-Type"}}, Thresholds: framework.Thresholds{MatchRate: 1, MinSamples: 1}})
	s, front := session(t, plan, Options{})
	const requests = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range requests {
		resp, err := http.Head(front.URL + "/files/" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength != size {
			t.Fatalf("HEAD: %d, Content-Length %d; want prod's 200 and %d", resp.StatusCode, resp.ContentLength, size)
		}
	}
	runtime.ReadMemStats(&after)
	if perRequest := (after.TotalAlloc - before.TotalAlloc) / requests; perRequest > 1<<20 {
		t.Errorf("%d KiB allocated per HEAD request, for an answer without a body", perRequest>>10)
	}
	eventually(t, "the HEAD pairs", func() bool { return endpointResults(s, "head").Pairs == requests })
	if e := endpointResults(s, "head"); e.Matches != requests {
		t.Errorf("head: %d of %d pairs match", e.Matches, e.Pairs)
	}
}
