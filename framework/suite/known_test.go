package suite

import (
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

func TestHoldKnownCategories(t *testing.T) {
	endpoint := func(categories ...string) *observe.Endpoint {
		e := observe.NewResults([]framework.Endpoint{{Name: "get-user"}}).Endpoint("get-user")
		e.Pairs = 100
		for i, name := range categories {
			kind, path, _ := strings.Cut(name, " ")
			e.Categories[name] = &observe.Category{Name: name, Count: int64(10 - i),
				Example: framework.Diff{Kind: framework.DiffKind(kind), Path: path, Prod: `"a"`, Shadow: `"b"`}}
		}
		return e
	}
	known := []framework.KnownCategory{{Category: "value $.email", Reason: "v2 lower-cases e-mail, TICKET-12"}}
	tests := []struct {
		name    string
		known   []framework.KnownCategory
		actual  *observe.Endpoint
		pass    bool
		message []string
		reason  string
	}{
		{"no categories", known, endpoint(), true, nil, "nothing differs: nothing outside known"},
		{"only known", known, endpoint("value $.email"), true, nil, "a known category passes even though pairs differ"},
		{"one unknown", known, endpoint("value $.email", "missing $.currency"), false,
			[]string{"get-user: 1 discrepancy category outside known over 100 pairs", `missing $.currency: 9 pairs, e.g. $.currency: prod "a", shadow "b"`,
				"known: value $.email (v2 lower-cases e-mail, TICKET-12)"},
			"a new category fails and is named with its count and an example; the known ones are listed with reasons"},
		{"empty known", []framework.KnownCategory{}, endpoint("value $.email"), false,
			[]string{"1 discrepancy category outside known", "known: (none declared)"}, "known: [] allows no category at all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := HoldKnownCategories(tt.known)
			ok, err := m.Match(tt.actual)
			if err != nil || ok != tt.pass {
				t.Fatalf("Match = %v, %v; want %v (%s)", ok, err, tt.pass, tt.reason)
			}
			if !ok {
				msg := m.FailureMessage(tt.actual)
				for _, want := range tt.message {
					if !strings.Contains(msg, want) {
						t.Errorf("message lacks %q (%s):\n%s", want, tt.reason, msg)
					}
				}
			}
		})
	}
	if _, err := HoldKnownCategories(known).Match("x"); err == nil {
		t.Error("a non-endpoint actual must be an error")
	}
}
