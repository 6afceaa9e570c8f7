package redact

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestNameValuePairs: a secret whose name is data (a label member,
// attribute or child element named name, key, header, param... whose
// value is a secret name) is masked where its value stands: the value
// member, attribute or child element next to the label, in JSON, XML and
// form bodies, whatever the order. Pairs whose label is not secret are
// kept, and every masked value is learned by value.
func TestNameValuePairs(t *testing.T) {
	const (
		xmlType  = "text/xml"
		jsonType = "application/json"
		formType = "application/x-www-form-urlencoded"
	)
	for _, tc := range []struct {
		reason, contentType, body string
		secrets                   []string
		keep                      []string
	}{
		{"an XML element named by its name attribute", xmlType,
			`<r><Param name="password">Zk11paramsecret</Param><Param name="color">red</Param></r>`,
			[]string{"Zk11paramsecret"}, []string{`<Param name="password">[REDACTED]</Param><Param name="color">red</Param>`}},
		{"XML key and value attributes", xmlType,
			`<r><Property key="apiKey" value="Zk12propsecret"/><Property key="size" value="L"/></r>`,
			[]string{"Zk12propsecret"}, []string{`value="[REDACTED]"/>`, `value="L"/>`}},
		{"XML key and value children", xmlType,
			`<r><entry><key>token</key><value>Zk13entrysecret</value></entry><entry><key>page</key><value>2</value></entry></r>`,
			[]string{"Zk13entrysecret"}, []string{`<value>[REDACTED]</value>`, `<value>2</value>`}},
		{"XML value child before its key", xmlType,
			`<r><entry><value>Zk14beforekey</value><extra>kept</extra><key>access_token</key></entry><entry><value>3</value><key>page</key></entry></r>`,
			[]string{"Zk14beforekey"}, []string{`<entry><value>[REDACTED]</value><extra>kept</extra><key>`, `<value>3</value>`}},
		{"XML header list, the value's attributes too", xmlType,
			`<h><header><name>Authorization</name><value scheme="Zk15scheme">Bearer Zk15bearer</value></header><header><value scheme="Zk16scheme"><v>Zk16nested</v></value><name>Cookie</name></header><header><name>Accept</name><value>text/html</value></header></h>`,
			[]string{"Zk15scheme", "Zk15bearer", "Zk16scheme", "Zk16nested"},
			[]string{`<name>Authorization</name><value scheme="[REDACTED]">[REDACTED]</value>`, `<value scheme="[REDACTED]">[REDACTED]</value><name>Cookie</name>`, `<name>Accept</name><value>text/html</value>`}},
		{"JSON name and value (Kubernetes env)", jsonType,
			`{"env":[{"name":"DB_PASSWORD","value":"Zk21envsecret"},{"name":"PORT","value":"8080"}]}`,
			[]string{"Zk21envsecret"}, []string{`{"name":"DB_PASSWORD","value":"[REDACTED]"}`, `{"name":"PORT","value":"8080"}`}},
		{"JSON key and value", jsonType,
			`{"value":"Bearer Zk22keyvalue","key":"Authorization"}`,
			[]string{"Zk22keyvalue"}, []string{`"value":"[REDACTED]"`}},
		{"a HAR inside a body", jsonType,
			`{"log":{"entries":[{"request":{"headers":[{"name":"Cookie","value":"sid=Zk23harcookie"},{"name":"Accept","value":"text/html"}]}}]}}`,
			[]string{"Zk23harcookie"}, []string{`{"name":"Cookie","value":"[REDACTED]"}`, `{"name":"Accept","value":"text/html"}`}},
		{"JSON header, param, values and objects", jsonType,
			`[{"header":"X-Api-Key","values":["Zk24values"]},{"Param":"client_secret","Val":"Zk25val"},{"name":"credentials","value":{"user":"ada","pass":"Zk26object"}}]`,
			[]string{"Zk24values", "Zk25val", "Zk26object"}, []string{`"values":"[REDACTED]"`, `"Val":"[REDACTED]"`}},
		{"labels that spell a secret word with escapes or non-ASCII letters", jsonType,
			`[{"name":"tok%65n","value":"Zk27percent"},{"name":"API_KEY","value":"Zk28kelvin"}]`,
			[]string{"Zk27percent", "Zk28kelvin"}, nil},
		{"a flat form", formType,
			`name=password&value=Zk31flatform&page=2`,
			[]string{"Zk31flatform"}, []string{`name=password&value=[REDACTED]&page=2`}},
		{"a form of indexed pairs", formType,
			`p[0][name]=api_key&p[0][value]=Zk32indexed&p[1][name]=color&p[1][value]=red`,
			[]string{"Zk32indexed"}, []string{`p[0][value]=[REDACTED]&p[1][name]=color&p[1][value]=red`}},
		{"a form of percent-encoded pairs", formType,
			`p%5B0%5D%5Bname%5D=token&p%5B0%5D%5Bvalue%5D=Zk33encoded&h.key=X%2DAuth%2DToken&h.value=Zk34dotted`,
			[]string{"Zk33encoded", "Zk34dotted"}, []string{`p%5B0%5D%5Bvalue%5D=[REDACTED]`, `h.value=[REDACTED]`}},
	} {
		r, sc := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {tc.contentType}}, []byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		for _, s := range tc.secrets {
			if strings.Contains(string(out), s) {
				t.Errorf("%s: %s not masked:\n%s", tc.reason, s, out)
			}
			if echo := sc.String("echo " + s); strings.Contains(echo, s) {
				t.Errorf("%s: %s not learned by value", tc.reason, s)
			}
		}
		for _, k := range tc.keep {
			if !strings.Contains(string(out), k) {
				t.Errorf("%s: want %s in:\n%s", tc.reason, k, out)
			}
		}
	}
	// Nothing secret: every byte kept.
	r, _ := build(t)
	for ct, body := range map[string]string{
		xmlType:  `<r><entry><name>page</name><value>2</value></entry><Param name="color"> red </Param><value>1</value></r>`,
		formType: `p[0][name]=color&p[0][value]=red&name=page&value=2`,
	} {
		if out, _, err := r.BodyOf(http.Header{"Content-Type": {ct}}, []byte(body)); err != nil || string(out) != body {
			t.Errorf("%s without secrets changed: %s, %v", ct, out, err)
		}
	}
}

// TestNameValuePairsInDifferences: a difference shows a pair's value
// masked when its path names the pair by a secret label (a keyed set:
// $.headers[name="Cookie"].value), or when the value shown is the pair.
func TestNameValuePairsInDifferences(t *testing.T) {
	r, _ := build(t)
	if got := r.Value(`$.headers[name="Cookie"].value`, `"sid=Zk41keyed"`); got != Mask {
		t.Errorf("a pair's value by keyed path: %q", got)
	}
	if got := r.Value(`$.headers[name="Accept"].value`, `"text/html"`); got != `"text/html"` {
		t.Errorf("a harmless pair's value: %q", got)
	}
	if got := r.Value(`$.headers[3]`, `{"name":"Authorization","value":"Bearer Zk42element"}`); strings.Contains(got, "Zk42") {
		t.Errorf("a pair shown whole: %q", got)
	}
}

// TestDoctypeAndNamespaces: a DOCTYPE's internal subset is masked by name
// (the literals of an entity whose name is secret, secret parameters in
// other literals' URLs, comments with a secret name) and so is a namespace
// declaration whose prefix is a secret name. A document that refers to an
// entity it declares is withheld: encoding/xml cannot expand it, so the
// redactor cannot tell what a secret element holds.
func TestDoctypeAndNamespaces(t *testing.T) {
	body := `<?xml version="1.0"?>
<!DOCTYPE r [
  <!ENTITY token "Zk51entity">
  <!ENTITY % apiKey 'Zk52parameter'>
  <!ENTITY logo SYSTEM "https://cdn.example/l.png?sig=Zk53systemid&amp;w=2">
  <!-- password: Zk54comment -->
  <!ENTITY title "Shop">
]>
<r xmlns:token="urn:Zk55namespace" xmlns:x="urn:x"><x:a>1</x:a></r>`
	r, sc := build(t)
	out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/xml"}}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Zk51entity", "Zk52parameter", "Zk53systemid", "Zk54comment", "Zk55namespace"} {
		if strings.Contains(string(out), s) {
			t.Errorf("%s not masked:\n%s", s, out)
		}
	}
	for _, s := range []string{"Zk51entity", "Zk52parameter", "urn:Zk55namespace"} {
		if echo := sc.String("echo " + s); strings.Contains(echo, s) {
			t.Errorf("%s not learned by value", s)
		}
	}
	for _, k := range []string{`<!ENTITY token "[REDACTED]">`, `<!ENTITY % apiKey "[REDACTED]">`, `?sig=[REDACTED]&amp;w=2">`, `<!ENTITY title "Shop">`, `xmlns:token="[REDACTED]" xmlns:x="urn:x"><x:a>1</x:a></r>`} {
		if !strings.Contains(string(out), k) {
			t.Errorf("want %s in:\n%s", k, out)
		}
	}
	for reason, body := range map[string]string{
		"in a secret element":   `<!DOCTYPE r [<!ENTITY v "Zk56ref">]><r><password>&v;</password></r>`,
		"in a secret attribute": `<!DOCTYPE r [<!ENTITY v "Zk57ref">]><r token="&v;"/>`,
		"in a pair's value":     `<!DOCTYPE r [<!ENTITY v "Zk58ref">]><r><entry><key>token</key><value>&v;</value></entry></r>`,
	} {
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/xml"}}, []byte(body))
		if !errors.Is(err, ErrWithheld) || out != nil {
			t.Errorf("an entity referred to %s: got %q, %v; want it withheld", reason, out, err)
		}
	}
}

// TestXMLTooDeepIsWithheld: the pair rule keeps a little per open element,
// so a document nested deeper than maxXMLDepth is withheld.
func TestXMLTooDeepIsWithheld(t *testing.T) {
	body := strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1)
	r, _ := build(t)
	if out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/xml"}}, []byte(body)); !errors.Is(err, ErrWithheld) || out != nil {
		t.Errorf("got %d bytes, %v; want it withheld", len(out), err)
	}
	ok := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	if out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/xml"}}, []byte(ok)); err != nil || string(out) != ok {
		t.Errorf("100 levels: %v", err)
	}
}

// TestLearnDiffs: the values a pair's differences show at (or inside) the
// value of a name/value pair are learned when the label next to them, in
// either side's body (gzip undone), names a secret: at a plain index, in
// a keyed-set element named by another member, in an object; a harmless
// pair's value is not.
func TestLearnDiffs(t *testing.T) {
	r, sc := build(t)
	prodBody := `{"env":[{"name":"PORT","value":"port-8080-prod"},{"name":"DB_PASSWORD","value":"Zk92index"}],` +
		`"vars":[{"id":3,"value":{"v":"Zk93keyed"},"key":"api_key"}],"auth":{"val":"Zk94object","param":"client_secret"}}`
	pair := &framework.Pair{
		Prod:   framework.Response{Status: 200, Body: []byte(prodBody)},
		Shadow: framework.Response{Status: 200, Header: http.Header{"Content-Encoding": {"gzip"}}, Body: gz([]byte(`{"env":[{"name":"PORT","value":"port-8080-shadow"},{"name":"DB_PASSWORD","value":"Zk95shadow"}]}`))},
	}
	r.LearnDiffs(pair, []framework.Diff{
		{Path: "$.env[0].value", Prod: `"port-8080-prod"`, Shadow: `"port-8080-shadow"`},
		{Path: "$.env[1].value", Prod: `"Zk92index"`, Shadow: `"Zk95shadow"`},
		{Path: "$.vars[id=3].value.v", Prod: `"Zk93keyed"`, Shadow: ``},
		{Path: "$.auth.val", Prod: `"Zk94object"`},
	})
	for _, s := range []string{"Zk92index", "Zk95shadow", "Zk93keyed", "Zk94object"} {
		if got := sc.String("echo " + s); strings.Contains(got, s) {
			t.Errorf("%s not learned", s)
		}
	}
	if got := sc.String("port-8080-prod port-8080-shadow"); got != "port-8080-prod port-8080-shadow" {
		t.Errorf("a harmless pair's values were learned: %q", got)
	}
}

// TestLearnDiffsOfTextBodies: a text body's difference shows a line or a
// window cut from its markup; what the whole bodies would mask by name is
// learned, so the window is scrubbed by value.
func TestLearnDiffsOfTextBodies(t *testing.T) {
	r, sc := build(t)
	xmlType := http.Header{"Content-Type": {"application/xml"}}
	pair := &framework.Pair{
		Prod:   framework.Response{Status: 200, Header: xmlType, Body: []byte(`<r><password>Zk96prodpw</password><side>prod</side></r>`)},
		Shadow: framework.Response{Status: 200, Header: xmlType, Body: []byte(`<r><password>Zk97shadowpw</password><side>shadow</side></r>`)},
	}
	r.LearnDiffs(pair, []framework.Diff{{Path: "body", Prod: `…word>Zk96prodpw</pass…`, Shadow: `…word>Zk97shadowpw</pass…`}})
	for _, s := range []string{"Zk96prodpw", "Zk97shadowpw"} {
		if got := sc.String("…word>" + s + "</pass…"); strings.Contains(got, s) {
			t.Errorf("%s not learned: %q", s, got)
		}
	}
	window := `…n="1.0"?><!DOCTYPE r [<!ENTITY token "Zk98window">]><r/>`
	if got := r.Value("body", window); strings.Contains(got, "Zk98") {
		t.Errorf("a window of an XML document with its DOCTYPE: %q", got)
	}
}
