package spec

import (
	"reflect"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// TestComparisonRules checks that the comparison rules of the schema reach
// the plan, with defaults inherited field by field.
func TestComparisonRules(t *testing.T) {
	plan := loadGood(t, "rules", Options{})
	order, user := plan.Endpoints[0], plan.Endpoints[1]
	uuid := "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
	tests := []struct {
		got, want any
		reason    string
	}{
		{order.Rules.Tolerance["$.updatedAt"], framework.Tolerance{Skew: 2 * time.Second}, "skew is a duration"},
		{order.Rules.Unordered, []framework.Unordered{{Path: "$.roles"}, {Path: "$.orders", Key: "id"}}, "a path is a multiset, {path, key} a keyed set"},
		{order.Rules.Masks, []framework.Mask{{Path: "$.href", Pattern: "v[0-9]+"}}, "an endpoint's masks replace the default list"},
		{user.Rules.Masks, []framework.Mask{{Pattern: uuid}}, "masks are inherited from defaults"},
		{order.Rules.ErrorsBy, "$.error.code", "errors.by is inherited"},
		{order.Rules.DigestAbove, int64(1048576), "digestAbove"},
		{order.Noise, framework.Noise{Probe: 0.1}, "noise is inherited"},
		{order.Known, []framework.KnownCategory{{Category: "value $.email", Reason: "v2 lower-cases e-mail, TICKET-12"}}, "known with reasons"},
		{user.Known != nil && len(user.Known) == 0, true, "known: [] is declared and empty, so the known test runs"},
		{order.Rules.Ignore, []string{"$.orders[id=7].note"}, "paths may name keyed elements"},
		{order.KnownPos.Line, 17, "known's position points at the spec"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.reason, tt.got, tt.want)
		}
	}
}
