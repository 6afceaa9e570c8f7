package redact

import (
	"net/http"
	"strings"
	"testing"
)

// TestPasswordInTwoWordsMasked: a password field named in two words
// (pass_word, "Pass Word", PassWord) was not a secret name, and the cheap
// first look of scripts and tables (hasSecretWord) did not see it either
// (redteam9): its value is masked wherever the name rules apply.
func TestPasswordInTwoWordsMasked(t *testing.T) {
	for _, tc := range []struct{ contentType, body string }{
		{"application/json", `{"user":"ada","pass_word":"` + secret + `"}`},
		{"application/json", `{"user":"ada","PassWord":"` + secret + `"}`},
		{"application/x-www-form-urlencoded", "user=ada&Pass+Word=" + secret},
		{"text/javascript", `const pass_word = "` + secret + `";`},
		{"text/plain", "Pass-Word: " + secret + "\n"},
		{"text/csv", "user;PASS WORD\nada;" + secret + "\n"},
	} {
		r, _ := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {tc.contentType}}, []byte(tc.body))
		if err != nil || strings.Contains(string(out), secret) {
			t.Errorf("%s %q: %q, %v", tc.contentType, tc.body, out, err)
		}
	}
	r, _ := build(t)
	if got := r.Header(http.Header{"X-Pass-Word": {secret}}).Get("X-Pass-Word"); got != Mask {
		t.Errorf("X-Pass-Word: %q", got)
	}
	for _, name := range []string{"pass_weight", "bypass_window", "compass"} {
		if r.IsSensitiveHeader(name) {
			t.Errorf("%s is not a secret name", name)
		}
	}
}
