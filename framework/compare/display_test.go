package compare

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestClip(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		reason string
	}{
		{"short", "short", "short text is unchanged"},
		{strings.Repeat("a", 120), strings.Repeat("a", 120), "exactly the limit is not cut"},
		{strings.Repeat("a", 121), strings.Repeat("a", 120) + "…", "one byte over is cut with an ellipsis"},
		{"a" + strings.Repeat("€", 50), "a" + strings.Repeat("€", 39) + "…", "a 3-byte rune across the limit is dropped whole"},
		{"bad\xffbyte", "bad\uFFFDbyte", "invalid UTF-8 becomes U+FFFD"},
		{strings.Repeat("\xff0", 100), strings.Repeat("\uFFFD0", 30) + "…", "replacement runes count toward the limit"},
	}
	for _, tt := range tests {
		if got := clipString(tt.in); got != tt.want {
			t.Errorf("clipString(%q)\n got %q\nwant %q (%s)", tt.in, got, tt.want, tt.reason)
		}
		if got := clipBytes([]byte(tt.in)); got != tt.want {
			t.Errorf("clipBytes(%q)\n got %q\nwant %q (%s)", tt.in, got, tt.want, tt.reason)
		}
	}
}

func TestDisplay(t *testing.T) {
	big := make([]any, 1000)
	for i := range big {
		big[i] = json.Number("12345")
	}
	tests := []struct {
		v      any
		want   string
		reason string
	}{
		{nil, "null", "null"},
		{json.Number("1.50"), "1.50", "numbers keep their text"},
		{"<a&b>", `"<a&b>"`, "no HTML escaping"},
		{"\x01\t", `"\u0001\t"`, "control characters escaped"},
		{map[string]any{"b": true, "a": []any{}}, `{"a":[],"b":true}`, "members sorted by name"},
		{big, "[" + strings.Repeat("12345,", 19) + "12345…", "large values stop early and are cut"},
	}
	for _, tt := range tests {
		if got := display(tt.v); got != tt.want {
			t.Errorf("display(%.80v)\n got %q\nwant %q (%s)", tt.v, got, tt.want, tt.reason)
		}
	}
}
