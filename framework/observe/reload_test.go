package observe

import (
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestRetiredEndpointsKeepWhatTheyMeasured(t *testing.T) {
	r := NewResults([]framework.Endpoint{{Name: "a"}, {Name: "b"}, {Name: "c"}})
	r.Add(&framework.Pair{Endpoint: "a", Prod: framework.Response{Status: 200}, Shadow: framework.Response{Status: 200}}, nil)
	r.AddSkipped("c")
	r.AddEndpoint(framework.Endpoint{Name: "d"})
	r.AddEndpoint(framework.Endpoint{Name: "a", Path: "/new"}) // kept: new declaration, same aggregates
	for _, tc := range []struct {
		name, as string
		kept     bool
		reason   string
	}{
		{"a", "a (removed by reload 1)", true, "one pair measured"},
		{"b", "b (removed by reload 1)", false, "nothing reached it: dropped"},
		{"c", "c (removed by reload 1)", true, "a write skipped by policy is still something to show"},
	} {
		if got := r.RetireEndpoint(tc.name, tc.as); got != tc.kept {
			t.Errorf("%s: kept %v, want %v (%s)", tc.name, got, tc.kept, tc.reason)
		}
		if r.Endpoint(tc.name) != nil {
			t.Errorf("%s is still found under its own name", tc.name)
		}
	}
	a := r.Endpoint("a (removed by reload 1)")
	if a == nil || a.Pairs != 1 || a.Spec.Name != "a (removed by reload 1)" || a.Spec.Path != "/new" {
		t.Fatalf("retired a: %+v", a)
	}
	var names []string
	for _, e := range r.Endpoints {
		names = append(names, e.Name)
	}
	if len(names) != 3 || names[2] != "d" {
		t.Fatalf("endpoints %v, want a, c retired and d", names)
	}
	// A later endpoint with a retired one's name starts afresh.
	r.AddEndpoint(framework.Endpoint{Name: "a"})
	if e := r.Endpoint("a"); e == nil || e.Pairs != 0 {
		t.Fatalf("re-added a: %+v", e)
	}
}
