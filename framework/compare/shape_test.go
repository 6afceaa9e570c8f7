package compare

import (
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

const kShape = framework.KindShape

// TestCompareShape checks shape rules ("may differ, must keep this shape")
// and the shape differences found without any rule.
func TestCompareShape(t *testing.T) {
	rules := framework.Rules{Shape: map[string]framework.ShapeRule{
		"$.requestId": {Format: "uuid"},
		"$.createdAt": {Format: "rfc3339"},
		"$.origin":    {Pattern: `^[0-9.]+:[0-9]+$`},
		"$.count":     {Format: "integer"},
		"$..token":    {Format: "hex"},
	}}
	runCompareCases(t, []compareCase{
		jsonCase("uuid against uuid", `{"requestId":"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e"}`, `{"requestId":"0b7e9f10-3c2d-4e5f-8a9b-1c2d3e4f5a6b"}`, rules,
			"two UUIDs under a uuid shape match"),
		jsonCase("uuid against a name", `{"requestId":"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e"}`, `{"requestId":"req-7"}`, rules,
			"a value outside the declared shape is a shape difference",
			d(kShape, "$.requestId", `"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e"`, `"req-7"`)),
		jsonCase("times", `{"createdAt":"2026-11-30T01:02:03Z"}`, `{"createdAt":"2026-11-30T01:09:03.5+01:00"}`, rules,
			"any two RFC 3339 times match under rfc3339"),
		jsonCase("pattern", `{"origin":"127.0.0.1:40224"}`, `{"origin":"127.0.0.1:40230"}`, rules,
			"a pattern shape admits any string it matches"),
		jsonCase("pattern lost the port", `{"origin":"127.0.0.1:40224"}`, `{"origin":"127.0.0.1"}`, rules,
			"a string the pattern does not match is a shape difference",
			d(kShape, "$.origin", `"127.0.0.1:40224"`, `"127.0.0.1"`)),
		jsonCase("integer shape, numbers", `{"count":3}`, `{"count":7}`, rules,
			"integer admits any integer"),
		jsonCase("integer shape, fraction", `{"count":3}`, `{"count":7.5}`, rules,
			"a fraction is not an integer",
			d(kShape, "$.count", `3`, `7.5`)),
		jsonCase("integer shape, type change", `{"count":3}`, `{"count":"x"}`, rules,
			"a string that is no integer text is a shape difference, not a type difference",
			d(kShape, "$.count", `3`, `"x"`)),
		jsonCase("recursive path", `{"a":{"token":"00ff"}}`, `{"a":{"token":"abcd"}}`, rules,
			"shape paths use the path grammar, .. included"),
		jsonCase("missing stays missing", `{"requestId":"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e"}`, `{}`, rules,
			"a shape says what a value looks like, not that it may be absent",
			d(kMissing, "$.requestId", `"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e"`, "")),
		jsonCase("no rule: port dropped", `{"o":"127.0.0.1:40224"}`, `{"o":"127.0.0.1"}`, framework.Rules{},
			"host:port against a bare host is a shape difference with no rule at all",
			d(kShape, "$.o", `"127.0.0.1:40224"`, `"127.0.0.1"`)),
		jsonCase("no rule: uuid against uuid", `{"o":"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e"}`, `{"o":"0b7e9f10-3c2d-4e5f-8a9b-1c2d3e4f5a6b"}`, framework.Rules{},
			"without a rule two different UUIDs are a value difference",
			d(kValue, "$.o", `"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e"`, `"0b7e9f10-3c2d-4e5f-8a9b-1c2d3e4f5a6b"`)),
		jsonCase("no rule: time to date", `{"o":"2026-11-30T01:02:03Z"}`, `{"o":"2026-11-30"}`, framework.Rules{},
			"a timestamp replaced by a date is a shape difference",
			d(kShape, "$.o", `"2026-11-30T01:02:03Z"`, `"2026-11-30"`)),
		jsonCase("no rule: plain words", `{"o":"hit"}`, `{"o":"miss"}`, framework.Rules{},
			"words have no distinctive format: a value difference",
			d(kValue, "$.o", `"hit"`, `"miss"`)),
	})
}

func TestCompileShapeErrors(t *testing.T) {
	for _, rules := range []map[string]framework.ShapeRule{
		{"$.a": {Format: "guid"}},
		{"$.a": {Pattern: "("}},
		{"header:X-Id": {Format: "uuid"}},
		{"$.[": {Format: "uuid"}},
	} {
		if _, err := Compile(framework.Rules{Shape: rules}); err == nil {
			t.Errorf("Compile(%v) accepted a bad shape rule", rules)
		}
	}
}
