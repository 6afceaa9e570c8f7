package fieldpath

import "testing"

func TestFoldKeys(t *testing.T) {
	// keep accepts the names of a fixed set, per parent.
	known := map[string]bool{"$|users": true, "$.users.*|name": true, "$.users|admin": true}
	keep := func(parent, name string) bool { return known[parent+"|"+name] }
	tests := []struct{ in, want, reason string }{
		{"$.users.x7f3.name", "$.users.*.name", "an unknown member folds; the parent passed on is the folded one"},
		{"$.users.admin", "$.users.admin", "a kept member stays"},
		{"$.users[*].x9", "$.users[*].*", "indices are left as they are"},
		{`$.users."a b"`, "$.users.*", "quoted names fold too"},
		{"header:X-Random", "header:X-Random", "header paths are not folded"},
		{"body", "body", "text that is not a path is returned unchanged"},
	}
	for _, tt := range tests {
		if got := FoldKeys(tt.in, keep); got != tt.want {
			t.Errorf("FoldKeys(%q) = %q, want %q (%s)", tt.in, got, tt.want, tt.reason)
		}
	}
	p := MustParse("$.users.*.name")
	if !p.Matches([]Step{Key("users"), Key("x"), Key("name")}) || p.Matches([]Step{Key("users"), Index(0), Key("name")}) {
		t.Error("$.users.*.name must match any member at *, and no index")
	}
}
