package observe

import (
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func TestErrorRatesCountTransportFailuresAnd5xx(t *testing.T) {
	r := NewResults([]framework.Endpoint{{Name: "a"}})
	addPair(r, "a", time.Millisecond, "")
	addPair(r, "a", time.Millisecond, "refused")
	addPair(r, "a", time.Millisecond, "refused")
	r.Add(&framework.Pair{Endpoint: "a", Prod: framework.Response{Status: 503}, Shadow: framework.Response{Status: 500}}, nil)
	e := r.Endpoint("a")
	if got := e.ProdErrorRate(); got != 0.25 {
		t.Errorf("prod error rate %v, want 0.25 (one 503 in four requests)", got)
	}
	if got := e.ShadowErrorRate(); got != 0.75 {
		t.Errorf("shadow error rate %v, want 0.75 (two refused and one 500 in four)", got)
	}
	if got := ErrorKinds(e.ShadowErrors); got != "refused 2, 5xx 1" {
		t.Errorf("ErrorKinds = %q", got)
	}
	if got := ErrorKinds(nil); got != "none" {
		t.Errorf("ErrorKinds(nil) = %q", got)
	}
	if got := NewResults([]framework.Endpoint{{Name: "b"}}).Endpoint("b").ShadowErrorRate(); got != 0 {
		t.Errorf("no requests: rate %v, want 0", got)
	}
}
