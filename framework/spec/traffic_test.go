package spec

import (
	"reflect"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestModesAndSources checks the decoding of the traffic formats, mirror
// modes, write policies, target rewrites and match predicates.
func TestModesAndSources(t *testing.T) {
	plan := loadGood(t, "modes", Options{})
	if !plan.Prod.Recorded || plan.Shadow.Recorded {
		t.Errorf("recorded: prod %v, shadow %v", plan.Prod.Recorded, plan.Shadow.Recorded)
	}
	if want := (framework.PathRewrite{From: "/api/v1", To: "/v2"}); plan.Shadow.PathPrefix != want {
		t.Errorf("PathPrefix = %+v", plan.Shadow.PathPrefix)
	}
	if !reflect.DeepEqual(plan.Shadow.RemoveHeaders, []string{"Cookie"}) || plan.Shadow.Headers["Host"] != "api.internal" {
		t.Errorf("headers: remove %v, set %v", plan.Shadow.RemoveHeaders, plan.Shadow.Headers)
	}
	if len(plan.Traffic) != 2 || plan.Traffic[0].Format != "gor" || plan.Traffic[0].Path != "captures/*.gor" {
		t.Fatalf("Traffic = %+v", plan.Traffic)
	}
	syn := plan.Traffic[1].Synthetic
	if plan.Traffic[1].Format != "synthetic" || syn == nil {
		t.Fatalf("Traffic[1] = %+v", plan.Traffic[1])
	}
	want := &framework.Synthetic{Count: 50, Seed: 7, Requests: []framework.SyntheticRequest{{
		Method:  "POST",
		URL:     "/users/{id}?lang={lang}",
		Headers: map[string]string{"X-Lang": "{lang}"},
		Body:    []byte(`{"id":"{id}","name":"user {id}","tags":["a"]}`),
		Params: []framework.SyntheticParam{
			{Name: "id", From: 1, To: 9, Step: 2},
			{Name: "lang", Values: []string{"en", "fr", "3"}},
		},
	}}}
	if !reflect.DeepEqual(syn, want) {
		t.Errorf("Synthetic =\n%+v\nwant\n%+v (body %s)", syn, want, syn.Requests[0].Body)
	}
	m := plan.Mirror
	if m.Mode != "selective" || !reflect.DeepEqual(m.Endpoints, []string{"export"}) || m.Writes != "dry-run" ||
		m.DryRunHeader != [2]string{"X-Dry", "1"} || m.Seed != 3 || m.Speed != 0 {
		t.Errorf("Mirror = %+v", m)
	}
	e := plan.Endpoints[0]
	wantQuery := []framework.Predicate{{Name: "format", Values: []string{"csv", "tsv"}}, {Name: "debug", Absent: true}}
	wantHeader := []framework.Predicate{{Name: "X-Api-Version", Values: []string{"2"}}}
	if !reflect.DeepEqual(e.Query, wantQuery) || !reflect.DeepEqual(e.Header, wantHeader) {
		t.Errorf("predicates: query %+v, header %+v", e.Query, e.Header)
	}
}
