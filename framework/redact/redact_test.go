package redact

import (
	"net/http"
	"strings"
	"testing"
)

func mustNew(t *testing.T, paths ...string) *Redactor {
	t.Helper()
	r, err := New(paths)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHeader(t *testing.T) {
	r := mustNew(t, "header:X-Session-Id", "header:X-Internal")
	in := http.Header{
		"Authorization": {"Bearer abc"}, "Cookie": {"a=1", "b=2"}, "Set-Cookie": {"sid=1"},
		"X-Api-Key": {"k"}, "X-Internal": {"i"}, "X-Refresh-Token": {"t"}, "Content-Type": {"application/json"},
	}
	got := r.Header(in)
	for _, name := range []string{"Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Internal", "X-Refresh-Token"} {
		for _, v := range got[name] {
			if v != Mask {
				t.Errorf("%s: %q not masked", name, v)
			}
		}
		if len(got[name]) != len(in[name]) {
			t.Errorf("%s: %d values, want %d (the count stays visible)", name, len(got[name]), len(in[name]))
		}
	}
	if got.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type changed: %q", got.Get("Content-Type"))
	}
	if in.Get("Authorization") != "Bearer abc" {
		t.Error("Header modified its input")
	}
}

func TestBodyAndValue(t *testing.T) {
	r := mustNew(t, "$.password", "$..token", "$.cards[*].number")
	for _, tc := range []struct {
		reason, path, value, want string
	}{
		{"a redacted field", "$.password", `"hunter2"`, Mask},
		{"recursive descent at depth", "$.session.token", `"abc"`, Mask},
		{"an array element's field", "$.cards[3].number", `"4111"`, Mask},
		{"a parent holding a redacted field", "$.cards[0]", `{"number":"4111","brand":"visa"}`, `{"brand":"visa","number":"[REDACTED]"}`},
		{"the whole document", "$", `{"user":{"token":"x"},"a":1}`, `{"a":1,"user":{"token":"[REDACTED]"}}`},
		{"an unrelated field", "$.name", `"Ada"`, `"Ada"`},
		{"a value that is not JSON", "$.user", `not json`, `not json`},
		{"a sensitive header", "header:Set-Cookie", "sid=1", Mask},
		{"an ordinary header", "header:Content-Type", "text/plain", "text/plain"},
		{"status", "status", "200", "200"},
		{"an empty value stays empty", "$.password", "", ""},
		{"quoted member names", `$."to ken"`, `"x"`, `"x"`}, // not $..token ("pass word" is a password's name now)
	} {
		if got := r.Value(tc.path, tc.value); got != tc.want {
			t.Errorf("%s: Value(%q, %q) = %q, want %q", tc.reason, tc.path, tc.value, got, tc.want)
		}
	}
	body := r.Body([]byte(`{"password":"p","items":[{"token":"t"}],"n":1.50}`))
	if strings.Contains(string(body), `"p"`) || strings.Contains(string(body), `"t"`) || !strings.Contains(string(body), "1.50") {
		t.Errorf("Body = %s (secrets masked, numbers kept as written)", body)
	}
	if got := Default().Body([]byte(`{"password":"p"}`)); string(got) != `{"password":"[REDACTED]"}` {
		t.Errorf("secret names are masked without configured fields: %s", got)
	}
	if got := Default().Body([]byte(`{"name":"p"}`)); string(got) != `{"name":"p"}` {
		t.Errorf("a body without secrets is unchanged: %s", got)
	}
}

func TestURL(t *testing.T) {
	r := Default()
	for _, tc := range []struct{ reason, in, want string }{
		{"no query", "/users/7", "/users/7"},
		{"harmless query", "/p?page=2&category=x", "/p?page=2&category=x"},
		{"api key and token", "/p?api_key=abc&page=2&access_token=t", "/p?api_key=[REDACTED]&page=2&access_token=[REDACTED]"},
		{"signature", "/f?X-Amz-Signature=s", "/f?X-Amz-Signature=[REDACTED]"},
	} {
		if got := r.URL(tc.in); got != tc.want {
			t.Errorf("%s: URL(%q) = %q, want %q", tc.reason, tc.in, got, tc.want)
		}
	}
}
