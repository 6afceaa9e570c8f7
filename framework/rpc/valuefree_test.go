package rpc_test

import (
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// TestBadJSONQuotesNoValue: a recorded message that protojson refuses is
// a bad record, whose error reaches stdout, stderr and JUnit; protojson
// quotes the offending value, which may be a secret (a numeric password,
// an API key where a number belongs). The error keeps the position, the
// reason and the field's name, never the value.
func TestBadJSONQuotesNoValue(t *testing.T) {
	desc := rpctest.Descriptors(t)
	md, err := desc.Method("acme.users.v1.UserService/CreateUser")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Zk5ecret0ken"
	for _, tc := range []struct{ json, want string }{
		{`{"id":98765432101` + `}`, "invalid value for string field id"},
		{`{"id":"1","visits":"` + secret + `"}`, "invalid value for int64 field visits"},
		{`{"avatar":"` + secret + `!!"}`, "invalid value for bytes field avatar"},
		{`{"created":"` + secret + `"}`, "invalid google.protobuf.Timestamp value"},
		{`{"roles":` + secret + `}`, "syntax error (line 1:10): invalid value (value not shown)"},
		{`{"id":"a` + `\` + `u` + secret + `"}`, "invalid escape code"},
		{`{"email":"a"` + secret + `}`, "invalid value"},
		{`{"email":"a" "` + secret + `"}`, "unexpected token"},
		{`{"balance":"` + secret + `"}`, "invalid value for double field balance"},
		{`{"nope":1}`, `unknown field "nope"`},
	} {
		_, err := desc.FromJSON(md.Input(), []byte(tc.json))
		if err == nil {
			t.Errorf("%s: no error", tc.json)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "98765432101") || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "(line 1:") {
			t.Errorf("%s: error %q, want %q with its position and without the value", tc.json, err, tc.want)
		}
	}
}
