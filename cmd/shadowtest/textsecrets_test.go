package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestTextAndTupleSecretsNeverPrinted: secrets under innocent names, in
// a header list written as tuples ([["Authorization","Bearer ..."]]) and
// in plain-text bodies (token=..., Authorization: Bearer ...), differ in
// every pair; only the first pair is an example with its bodies, the
// others' differences are written with their values alone. No output (the
// JUnit, the results, the log, the HTML report, stdout and stderr) shows
// one. Before, they were masked only when learned somewhere else.
func TestTextAndTupleSecretsNeverPrinted(t *testing.T) {
	s := secrets{}
	var mu sync.Mutex
	var lines []string
	for i := range 4 {
		lines = append(lines, fmt.Sprintf(`{"request":{"method":"GET","url":"/tuple/%d"}}`, i), fmt.Sprintf(`{"request":{"method":"GET","url":"/text/%d"}}`, i))
	}
	outputs := runDiffering(t, func(side string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			first, second := s.new(side+" "+r.URL.Path+" first"), s.new(side+" "+r.URL.Path+" second")
			mu.Unlock()
			if strings.HasPrefix(r.URL.Path, "/tuple/") {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"headers":[["Accept","*/*"],["Authorization","Bearer %s"],["X-Api-Key",%q]],"side":%q}`, first, second, side)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "side=%s\nlevel=info access_token=%s user=bob\nAuthorization: Bearer %s\n", side, first, second)
		}
	}, lines, `{
	tuple: {method: "GET", path: "/tuple/{id}"}
	text: {method: "GET", path: "/text/{id}"}
}`)
	for _, want := range []string{`$.headers[1][1]`, `$.headers[2][1]`, `side=prod`} {
		if !bytes.Contains(outputs["log"], []byte(want)) {
			t.Errorf("the log should show %s:\n%.3000s", want, outputs["log"])
		}
	}
	assertNoSecret(t, outputs, s)
}

// TestTableAndLoneTupleSecretsNeverPrinted: a CSV body with a secret
// column (user,password), a header tuple with several values
// ([["Cookie","a=...","b=..."]]), a body that is one tuple
// (["Authorization","Bearer ..."]) and a bearer token inside an error's
// prose differ in every pair; no output shows one (redteam6: they were
// shown unless learned elsewhere).
func TestTableAndLoneTupleSecretsNeverPrinted(t *testing.T) {
	s := secrets{}
	var mu sync.Mutex
	var lines []string
	for i := range 4 {
		for _, kind := range []string{"csv", "tuple", "lone", "prose"} {
			lines = append(lines, fmt.Sprintf(`{"request":{"method":"GET","url":"/%s/%d"}}`, kind, i))
		}
	}
	outputs := runDiffering(t, func(side string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			first, second := s.new(side+" "+r.URL.Path+" first"), s.new(side+" "+r.URL.Path+" second")
			mu.Unlock()
			switch {
			case strings.HasPrefix(r.URL.Path, "/csv/"):
				w.Header().Set("Content-Type", "text/csv")
				fmt.Fprintf(w, "user,password,\"api_key\"\n%s,%s,\"%s\"\n", side, first, second)
			case strings.HasPrefix(r.URL.Path, "/tuple/"):
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"h":[["Cookie","a=%s","b=%s"]],"side":%q}`, first, second, side)
			case strings.HasPrefix(r.URL.Path, "/prose/"):
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"error":"rejected Bearer %s9x9x: expired"}`, first)
			default:
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `["Authorization","Bearer %s"]`, first)
			}
		}
	}, lines, `{
	csv: {method: "GET", path: "/csv/{id}"}
	tuple: {method: "GET", path: "/tuple/{id}"}
	lone: {method: "GET", path: "/lone/{id}"}
	prose: {method: "GET", path: "/prose/{id}"}
}`)
	for _, want := range []string{`$.h[0][2]`, `user,password`} {
		if !bytes.Contains(outputs["log"], []byte(want)) {
			t.Errorf("the log should show %s:\n%.3000s", want, outputs["log"])
		}
	}
	assertNoSecret(t, outputs, s)
}
