package redact

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestAPairLabelGivenTwiceShowsNoSecret: a JSON object giving its label
// twice ({"name":"token","value":"s3cret","name":"x"}) decoded to its
// last label, so the pair rule did not see "token" and the body was
// returned as written, secret and all (redteam5). A body with pairs and a
// name given twice is now withheld (masked, carried in a string); one
// whose pair is masked anyway, or without pairs, is not.
func TestAPairLabelGivenTwiceShowsNoSecret(t *testing.T) {
	r := Default()
	json := http.Header{"Content-Type": {"application/json"}}
	for _, body := range []string{
		`{"name":"token","value":"s3cret","name":"x"}`,
		`[{"key":"Authorization","name":"a","values":["Bearer s3cret"],"key":"b"}]`,
		`{"a":"{\"name\":\"token\",\"value\":\"s3cret\",\"name\":\"x\"}"}`,
		`{"env":[{"name":"DB_PASSWORD","value":"s3cret","name":"HOST"}]}`,
	} {
		out, _, err := r.BodyOf(json, []byte(body))
		if strings.Contains(string(out), "s3cret") {
			t.Errorf("%s -> %s (%v)", body, out, err)
		}
		if err != nil && !errors.Is(err, ErrWithheld) {
			t.Errorf("%s: %v, want ErrWithheld", body, err)
		}
	}
	for _, body := range []string{
		`{"name":"x","name":"token","value":"s3cret"}`, // the last label is the secret one: masked
		`{"a":1,"a":2}`,
	} {
		out, _, err := r.BodyOf(json, []byte(body))
		if err != nil || strings.Contains(string(out), "s3cret") {
			t.Errorf("%s -> %s (%v), want it masked, not withheld", body, out, err)
		}
	}
}
