//go:build !windows

package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestProxyRecordingHoldsNoTextOrTupleSecret: a proxied plain-text
// request (password: ...), plain-text answers (token=..., Authorization:
// Bearer ...) and a JSON answer with a header list written as tuples are
// recorded with those values masked and the rest kept; no output of the
// session shows them.
func TestProxyRecordingHoldsNoTextOrTupleSecret(t *testing.T) {
	s := secrets{}
	password, token, bearer, tuple := s.new("text request password"), s.new("text answer token"), s.new("text answer Bearer"), s.new("tuple answer X-Api-Key")
	live := recordingProxy(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tuple" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"headers":[["Accept","*/*"],["X-Api-Key",%q]]}`, tuple)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "status=ok token=%s\nAuthorization: Bearer %s\n", token, bearer)
	}, `{
	login: {method: "POST", path: "/login", thresholds: minSamples: 1}
	tuple: {method: "GET", path: "/tuple", thresholds: minSamples: 1}
}`)
	resp, err := http.Post(live.front+"/login", "text/plain", strings.NewReader("user: ada\npassword: "+password+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	live.get("/tuple")
	recording := live.finish()
	for _, kept := range []string{`user: ada`, `status=ok token=[REDACTED]`, `Authorization: [REDACTED]`, `[\"X-Api-Key\",\"[REDACTED]\"]`} {
		if !bytes.Contains(recording, []byte(kept)) {
			t.Errorf("the recording should hold %s:\n%s", kept, recording)
		}
	}
	assertNoSecret(t, live.outputs(recording), s)
}
