package redact

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// TestTableSecretColumnsMasked: a CSV or TSV body with a column named like
// a secret (user,password / api_key / "token") was shown as written
// (redteam6): the values under such a column are masked, quotes and every
// other byte kept, and learned. Plain text is read as a table only when
// every record has its header's fields: prose with commas is kept.
func TestTableSecretColumnsMasked(t *testing.T) {
	for _, tc := range []struct {
		reason, contentType, body, want string
	}{
		{"a password column", "text/csv", "user,password\nada," + secret + "\n", "user,password\nada,[REDACTED]\n"},
		{"quoted, with a separator and a quote inside", "text/csv; charset=utf-8",
			"\"user\",\"api_key\",n\r\n\"ada, l\",\"" + secret + "\"\"x,y\",1\r\n", "\"user\",\"api_key\",n\r\n\"ada, l\",\"[REDACTED]\",1\r\n"},
		{"a quoted field over two lines", "application/csv", "token,user\n\"" + secret + "\nmore\",bob\n", "token,user\n\"[REDACTED]\",bob\n"},
		{"tabs", "text/tab-separated-values", "id\tAuthorization\n1\tBearer " + secret + "\n", "id\tAuthorization\n1\t[REDACTED]\n"},
		{"semicolons", "text/csv", "user;Token\nada;" + secret, "user;Token\nada;[REDACTED]"},
		{"a short record", "text/csv", "user,password\nada\nbob," + secret + ",extra\n", "user,password\nada\nbob,[REDACTED],extra\n"},
		{"a header cell over two lines", "text/csv", "\"user\nname\",\"a\"\"b\",\"token\"\nada,1," + secret + "\n", "\"user\nname\",\"a\"\"b\",\"token\"\nada,1,[REDACTED]\n"},
		{"Excel's separator line", "text/csv", "sep=;\r\nuser;password\r\nada;" + secret + "\r\n", "sep=;\r\nuser;password\r\nada;[REDACTED]\r\n"},
		{"records ending in CR alone", "text/csv", "user,password\rada," + secret + "\r", "user,password\rada,[REDACTED]\r"},
		{"a table as plain text", "text/plain", "user,secret\nada," + secret + "\n", "user,secret\nada,[REDACTED]\n"},
		{"a table without a Content-Type", "", "user,session_id\nada," + secret + "\n", "user,session_id\nada,[REDACTED]\n"},
		{"prose with commas is not a table", "text/plain", "Enter your user, password\nthen press enter, or " + secret + ", or not\n", ""},
		// Lines with as many commas whose first field holds a secret word
		// had the next lines' first field masked (redteam9): a recording
		// of a status page lost "cache: down".
		{"a log is not a table", "text/plain", "session store: ok, 3ms\ncache: down, 1ms\n", ""},
		{"nor are repeated log lines", "text/plain", "ERROR auth failed, retrying, attempt 1\nERROR auth failed, retrying, attempt 2\n", ""},
		{"a name of two words is a column", "text/plain", "user,Session ID\nada," + secret + "\n", "user,Session ID\nada,[REDACTED]\n"},
		{"no secret column", "text/csv", "user,email\nada," + secret + "\n", ""},
		// A table is a table whatever its first bytes: it was read as JSON
		// by them, withheld, and its exchange left out of a recording
		// (redteam9).
		{"Excel's BOM before the header", "text/csv", "\ufeffpassword,user\r\n" + secret + ",ada\r\n", "\ufeffpassword,user\r\n[REDACTED],ada\r\n"},
		{"a header starting with [", "text/csv", "[id],token\n1," + secret + "\n", "[id],token\n1,[REDACTED]\n"},
		// A quote never closed took in every record after it, so no
		// password after a stray " was masked (redteam9).
		{"a stray quote", "text/csv", "user,password\n\"ada," + secret + "\nbob," + secret + "\n", "user,password\n\"ada,[REDACTED]\nbob,[REDACTED]\n"},
		// The first separator found in the header was taken: a ";" table
		// with a comma in a column's name was read by commas, and its
		// password column was not masked (redteam9).
		{"semicolons with a comma in a name", "text/csv", "Name;Amount (EUR, net);Password\nBob;12,50;" + secret + "\nAnn;13;" + secret + "\n",
			"Name;Amount (EUR, net);Password\nBob;12,50;[REDACTED]\nAnn;13;[REDACTED]\n"},
		// "Pass Word" was not a secret name (redteam9).
		{"a password in two words", "text/csv", "user,Pass Word\nada," + secret + "\n", "user,Pass Word\nada,[REDACTED]\n"},
		// A stray quote in the header ran it to the end of the body: no
		// separator outside quotes, no table (redteam9).
		{"a stray quote opening the header", "text/csv", "\"user,password\nada," + secret + "\n", "\"user,password\nada,[REDACTED]\n"},
		{"a stray quote before a secret column's name", "text/csv", "user;\"password\r\nada;" + secret + "\r\n", "user;\"password\r\nada;[REDACTED]\r\n"},
		{"a stray quote in a header of plain text", "text/plain", "\"user,token\nada," + secret + "\n", "\"user,token\nada,[REDACTED]\n"},
		{"a stray quote in the header after Excel's separator line", "text/csv", "sep=;\n\"user;password\nada;" + secret + "\n", "sep=;\n\"user;password\nada;[REDACTED]\n"},
		{"a stray quote in a TSV", "text/tab-separated-values", "name\tpassword\n\"Bob\t" + secret + "\nann\t" + secret + "\n", "name\tpassword\n\"Bob\t[REDACTED]\nann\t[REDACTED]\n"},
	} {
		r, sc := build(t)
		header := http.Header{}
		if tc.contentType != "" {
			header.Set("Content-Type", tc.contentType)
		}
		out, _, err := r.BodyOf(header, []byte(tc.body))
		want := tc.want
		if want == "" {
			want = tc.body
		}
		if err != nil || string(out) != want {
			t.Errorf("%s:\n got %q, %v\nwant %q", tc.reason, out, err, want)
		}
		// The field's whole content, unquoted, is learned.
		learned := map[string]string{"quoted, with a separator and a quote inside": secret + `"x,y`, "a quoted field over two lines": secret + "\nmore", "tabs": "Bearer " + secret}[tc.reason]
		if learned == "" {
			learned = secret
		}
		if tc.want != "" && strings.Contains(sc.String("echo "+learned), secret) {
			t.Errorf("%s: the value was not learned", tc.reason)
		}
	}
}

// TestTuplesOfAnyLengthMasked: a header tuple with more than one value
// ([["Cookie","a=...","b"]]) and a whole document that is one tuple
// (["Authorization","Bearer ..."]) were shown as written (redteam6). The
// elements after a secret name are masked; a list of names
// (["password","email"]) is kept.
func TestTuplesOfAnyLengthMasked(t *testing.T) {
	for _, tc := range []struct {
		reason, body, want string
	}{
		{"three elements", `[["Cookie","a=` + secret + `","extra"]]`, `[["Cookie","[REDACTED]","[REDACTED]"]]`},
		{"a header with two values", `{"h":[["Set-Cookie","a=1","s=` + secret + `"],["Accept","*/*"]]}`, `{"h":[["Set-Cookie","[REDACTED]","[REDACTED]"],["Accept","*/*"]]}`},
		{"a lone tuple", `["Authorization","Bearer ` + secret + `"]`, `["Authorization","[REDACTED]"]`},
		{"a lone tuple of a bare token", `["X-Api-Key","` + secret + `"]`, `["X-Api-Key","[REDACTED]"]`},
		{"a lone list of names", `["password","email"]`, ``},
		{"a lone list of longer names", `["token","read:user"]`, ``},
		{"a list of three names", `["password","email","name"]`, ``},
		// A whole document that is a header with two values was kept whole
		// (redteam9): only tuples of two were read as lone.
		{"a lone tuple of a header with two values", `["Cookie","sid=` + secret + `","theme=dark"]`, `["Cookie","[REDACTED]","[REDACTED]"]`},
		{"a list of names with other words", `["token","tokenizer","token bucket"]`, ``},
		{"a tuple under a member is not lone", `{"fields":["password","password_confirmation"]}`, ``},
	} {
		r, sc := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
		want := tc.want
		if want == "" {
			want = tc.body
		}
		if err != nil || string(out) != want {
			t.Errorf("%s:\n got %s, %v\nwant %s", tc.reason, out, err, want)
		}
		if tc.want != "" && strings.Contains(sc.String("echo "+secret), secret) {
			t.Errorf("%s: the value was not learned", tc.reason)
		}
	}
	// A difference at a lone tuple's third element: the body says it is
	// a pair's value.
	r, sc := build(t)
	prod, shadow := `["Cookie","a=Zk91prodvalue","b=Zk92prodvalue"]`, `["Cookie","a=Zk91prodvalue","b=Zk93shadowvalue"]`
	pair := &framework.Pair{Prod: framework.Response{Status: 200, Body: []byte(prod)}, Shadow: framework.Response{Status: 200, Body: []byte(shadow)}}
	r.LearnDiffs(pair, []framework.Diff{{Path: "$[2]", Prod: `"b=Zk92prodvalue"`, Shadow: `"b=Zk93shadowvalue"`}})
	if got := sc.String("Zk92prodvalue Zk93shadowvalue"); got != "[REDACTED] [REDACTED]" {
		t.Errorf("after LearnDiffs at $[2]: %q", got)
	}
}

// TestABulkRequestTeachesACappedNumberOfValues: a bulk upload (a table or
// a JSON array of 20,500 rows with a password column) learned every cell
// and filled the scrubber's room for what requests carry, so a later
// request's token was not learned (redteam9). A request teaches at most
// scrub.RequestValues values, its headers first; its body is still masked
// by name where it stands.
func TestABulkRequestTeachesACappedNumberOfValues(t *testing.T) {
	rows := scrub.MaxValues + 500
	var table, array strings.Builder
	table.WriteString("user,password\n")
	array.WriteString("[")
	for i := range rows {
		fmt.Fprintf(&table, "u%05d,csv-pw-%06d\n", i, i)
		fmt.Fprintf(&array, `{"password":"json-pw-%06d"},`, i)
	}
	body := strings.TrimSuffix(array.String(), ",") + "]"
	r, sc := build(t)
	r.Learn(&framework.Request{URL: "/import", Header: http.Header{"Content-Type": {"text/csv"}, "Authorization": {"Bearer Zk01-bulk-csv-uploader"}}, Body: []byte(table.String())})
	r.Learn(&framework.Request{URL: "/import", Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer Zk02-bulk-json-uploader"}}, Body: []byte(body)})
	r.Learn(&framework.Request{URL: "/me", Header: http.Header{"X-Api-Key": {"Zk03-later-user-key"}}})
	if got := sc.String("Zk01-bulk-csv-uploader Zk02-bulk-json-uploader Zk03-later-user-key csv-pw-000000 json-pw-000000"); got != strings.Repeat("[REDACTED] ", 5)[:5*11-1] {
		t.Errorf("after two bulk uploads: %q", got)
	}
	if sc.Len() > 3*scrub.RequestValues || sc.Capped() != 2 {
		t.Errorf("%d values learned, %d requests capped; want at most %d, 2", sc.Len(), sc.Capped(), 3*scrub.RequestValues)
	}
	if out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/csv"}}, []byte(table.String())); err != nil || strings.Contains(string(out), fmt.Sprintf("csv-pw-%06d", rows-1)) {
		t.Errorf("the bulk table's last password is not masked where it stands (%v)", err)
	}
}

// TestCredentialHeadersLearnedBeforeAFloodOfOthers: a request's headers
// were learned in Go's map order, so a Cookie of 300 cookies, or 300
// credential-shaped headers, came before Authorization or X-Api-Key about
// half the time and took the request's room (scrub.RequestValues): the
// token, echoed by the shadow under an innocent name, showed (redteam10).
func TestCredentialHeadersLearnedBeforeAFloodOfOthers(t *testing.T) {
	var jar []string
	flood := http.Header{}
	for i := range scrub.RequestValues + 44 {
		jar = append(jar, fmt.Sprintf("c%03d=cookie-value-%03d", i, i))
		flood.Set(fmt.Sprintf("X-Trace-%03d", i), fmt.Sprintf("Bearer trace-token-%03d", i))
	}
	for round := range 16 {
		withSession := flood.Clone()
		withSession.Set("Cookie", fmt.Sprintf("theme=dark; session=Zk%02d-the-users-session", round))
		r, sc := build(t)
		r.Learn(&framework.Request{URL: "/me", Header: withSession})
		if got := sc.String(fmt.Sprintf("echo Zk%02d-the-users-session", round)); got != "echo [REDACTED]" {
			t.Fatalf("round %d: a session cookie among %d headers: %q", round, len(withSession), got)
		}
		for _, h := range []http.Header{{"Cookie": {strings.Join(jar, "; ")}}, flood.Clone()} {
			h.Set("Authorization", fmt.Sprintf("Bearer Zk%02d-the-users-token", round))
			h.Set("X-Api-Key", fmt.Sprintf("Zk%02d-the-users-key", round))
			r, sc := build(t)
			r.Learn(&framework.Request{URL: "/me", Header: h})
			text := fmt.Sprintf("echo Zk%02d-the-users-token Zk%02d-the-users-key", round, round)
			if got := sc.String(text); got != "echo [REDACTED] [REDACTED]" {
				t.Fatalf("round %d, %d headers: %q (%d values learned, %d capped)", round, len(h), got, sc.Len(), sc.Capped())
			}
		}
	}
}

// TestABareSchemeIsNotASecret: "Authorization: Bearer " (a logged-out
// browser app, or Bearer ${SHADOW_TOKEN:-} with the variable unset)
// taught "Bearer " as a secret value, and every output masked the
// scheme's name: "WWW-Authenticate: [REDACTED]realm=..." (redteam10).
func TestABareSchemeIsNotASecret(t *testing.T) {
	r, sc := build(t)
	r.Learn(&framework.Request{URL: "/me", Header: http.Header{"Authorization": {"Bearer "}, "Proxy-Authorization": {"Digest  "}}})
	r.Header(http.Header{"Authorization": {"Negotiate "}})
	text := `WWW-Authenticate: Bearer realm="api", Digest realm="x", Negotiate ; {"token_type":"Bearer "}`
	if got := sc.String(text); got != text || sc.Len() != 0 {
		t.Errorf("scrubbed %q (%d values learned), want it unchanged", got, sc.Len())
	}
	r.Learn(&framework.Request{URL: "/me", Header: http.Header{"Authorization": {"Bearer Zk-a-real-token"}}})
	if got := sc.String("echo Zk-a-real-token"); got != "echo [REDACTED]" {
		t.Errorf("a real token: %q", got)
	}
}
