package runner

import (
	"fmt"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestRefusedWhateverTheBodyAgreesWithAdmit: whenever
// RefusedWhateverTheBody says a request is refused before its body is
// read (the live side then copies no body), Admit refuses it whatever
// the body; and a request Admit may send is never called refused.
func TestRefusedWhateverTheBodyAgreesWithAdmit(t *testing.T) {
	endpoints := []framework.Endpoint{{Name: "a", Method: "POST", Path: "/a"}, {Name: "b", Method: "GET", Path: "/b"}}
	mirrors := []framework.Mirror{
		{Mode: "full"},
		{Mode: "sampled", Rate: 0},
		{Mode: "sampled", Rate: 0.5},
		{Mode: "sampled", Rate: 1},
		{Mode: "selective", Endpoints: []string{"a"}},
		{Mode: "selective", Endpoints: []string{"b"}, SelectiveRate: 0.5},
	}
	refusals := 0
	for _, m := range mirrors {
		for _, writes := range []string{"", "skip", "record-only", "isolated", "dry-run"} {
			m.Writes, m.DryRunHeader = writes, [2]string{"X-Dry-Run", "1"}
			plan := &framework.Plan{Mirror: m, Endpoints: endpoints}
			for i := range endpoints {
				for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
					req := framework.Request{Method: method, URL: "/x"}
					refused := RefusedWhateverTheBody(plan, i, &req)
					if refused {
						refusals++
					}
					sent := false
					for b := range 64 {
						ex := framework.Exchange{Request: framework.Request{Method: method, URL: "/x", Body: []byte(fmt.Sprint(b))}}
						reason := Admit(plan, i, &ex, observe.NewResults(endpoints), nil)
						if refused && reason == "" {
							t.Fatalf("%+v, endpoint %s, %s: called refused whatever the body, but Admit sends body %d", m, endpoints[i].Name, method, b)
						}
						sent = sent || reason == ""
					}
					if !refused && !sent {
						t.Errorf("%+v, endpoint %s, %s: Admit refuses every body, but it is not called refused", m, endpoints[i].Name, method)
					}
				}
			}
		}
	}
	if refusals == 0 {
		t.Fatal("no case refused")
	}
}
