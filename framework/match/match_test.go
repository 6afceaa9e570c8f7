package match

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestMatchResponse(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"v":` + strings.TrimPrefix(r.URL.Path, "/") + `}`))
	}))
	defer server.Close()
	get := func(path string) *http.Response {
		resp, err := http.Get(server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	tests := []struct {
		name             string
		expected, actual any
		rules            framework.Rules
		match            bool
		message, err     string
		reason           string
	}{
		{name: "http responses", expected: get("/1"), actual: get("/1.0"), match: true,
			reason: "*http.Response bodies are read and compared as JSON"},
		{name: "http responses differ", expected: get("/1"), actual: get("/2"),
			message: "value $.v: prod 1, shadow 2", reason: "the message lists each difference by category"},
		{name: "tolerance", expected: framework.Response{Status: 200, Body: []byte(`{"v":1}`)},
			actual: &framework.Response{Status: 200, Body: []byte(`{"v":1.5}`)},
			rules:  framework.Rules{Tolerance: map[string]framework.Tolerance{"$.v": {Abs: 0.5}}}, match: true,
			reason: "rules apply; values and pointers both work"},
		{name: "bad rules", expected: &framework.Response{}, actual: &framework.Response{},
			rules: framework.Rules{Ignore: []string{"$.["}}, err: "compare: ignore:", reason: "invalid rules are a matcher error, not a mismatch"},
		{name: "wrong type", expected: &framework.Response{}, actual: 42, err: "actual: want *framework.Response",
			reason: "an unsupported actual is an error naming the accepted types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MatchResponse(tt.expected, tt.rules)
			ok, err := m.Match(tt.actual)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q (%s)", err, tt.err, tt.reason)
				}
				return
			}
			if err != nil || ok != tt.match {
				t.Fatalf("Match = %v, %v; want %v (%s)\n%s", ok, err, tt.match, tt.reason, m.FailureMessage(tt.actual))
			}
			if msg := m.FailureMessage(tt.actual); tt.message != "" && !strings.Contains(msg, tt.message) {
				t.Errorf("message %q lacks %q (%s)", msg, tt.message, tt.reason)
			}
		})
	}
}
