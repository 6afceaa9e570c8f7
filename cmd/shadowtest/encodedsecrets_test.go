package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// percentEvery writes every byte of s as a percent-escape, a form
// url.QueryEscape never writes.
func percentEvery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// TestEncodedEchoesOfATokenNeverPrinted: a shadow echoes the user's token
// where only its bytes changed: percent-encoded beyond url.QueryEscape (in
// a Location header and a JSON string), and in a header's name, whose case
// Go canonicalises (x-echo-zkAbC… is read X-Echo-Zkabc…). The scrubber
// matched the token's own bytes only (redteam6); no output shows any form.
func TestEncodedEchoesOfATokenNeverPrinted(t *testing.T) {
	s := secrets{}
	var lines []string
	tokens := map[string]string{}
	for i := range 3 {
		token := "zkAbCdEf" + s.new(fmt.Sprint("token ", i))
		tokens[fmt.Sprint("/echo/", i)] = token
		s[fmt.Sprint("token ", i, " canonical")] = textproto.CanonicalMIMEHeaderKey(token)
		s[fmt.Sprint("token ", i, " escaped")] = percentEvery(token)
		rec, _ := json.Marshal(map[string]any{"request": map[string]any{"method": "GET", "url": fmt.Sprint("/echo/", i),
			"headers": map[string][]string{"Authorization": {"Bearer " + token}}}})
		lines = append(lines, string(rec))
	}
	outputs := runDiffering(t, func(side string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if side == "prod" {
				fmt.Fprint(w, `{"next":"/home"}`)
				return
			}
			token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			w.Header()["x-echo-"+token] = []string{"1"}
			w.Header().Set("Location", "/cb?next="+percentEvery(token))
			fmt.Fprintf(w, `{"next":"/cb/%s"}`, percentEvery(token))
		}
	}, lines, `{echo: {method: "GET", path: "/echo/{id}"}}`)
	for _, want := range []string{`"X-Echo-`, `$.next`} {
		if !bytes.Contains(outputs["log"], []byte(want)) {
			t.Errorf("the log should show %s:\n%.3000s", want, outputs["log"])
		}
	}
	assertNoSecret(t, outputs, s)
}
