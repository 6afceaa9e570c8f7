package redact

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestJSONCarriedAsTextMaskedByName: a JSON document or a form carried as
// a JSON string (an SNS or SQS "Message", a webhook's payload, GraphQL
// variables sent as text) is masked by name inside the string, as XML
// carried as text is; the string stays a string, the rest is kept.
func TestJSONCarriedAsTextMaskedByName(t *testing.T) {
	const secret = "Zk-carried-4f9a8b7c"
	cases := []struct{ reason, body, keep string }{
		{"a JSON object in a string", `{"Type":"Notification","Message":"{\"access_token\":\"` + secret + `\",\"user\":\"ada\"}"}`, `\"user\":\"ada\"`},
		{"a JSON array in a string", `{"payload":"[{\"password\":\"` + secret + `\"},{\"id\":7}]"}`, `\"id\":7`},
		{"JSON in a string in a string", `{"outer":"{\"inner\":\"{\\\"client_secret\\\":\\\"` + secret + `\\\"}\"}"}`, `outer`},
		{"a form in a string", `{"body":"grant_type=password&password=` + secret + `&user=ada"}`, `user=ada`},
	}
	for _, tc := range cases {
		r, sc := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if bytes.Contains(out, []byte(secret)) || !bytes.Contains(out, []byte(tc.keep)) {
			t.Errorf("%s: masked %s\nwant the secret masked and %s kept", tc.reason, out, tc.keep)
		}
		if got := sc.String("echo " + secret); strings.Contains(got, secret) {
			t.Errorf("%s: the secret was not learned", tc.reason)
		}
	}
	r, _ := build(t)
	plain := `{"note":"{not json","list":"[1, 2]","q":"a=b"}`
	if out, _, _ := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(plain)); string(out) != plain {
		t.Errorf("strings without secrets changed: %s", out)
	}
}
