package redact

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestXMLSecretsOutOfSight: secrets the element walk did not see before:
// a commented-out secret element, XML carried as text in a SOAP payload
// (escaped or in CDATA), a processing instruction's token, and a SOAP
// envelope recorded without a Content-Type or XML declaration. Each is
// masked and learned; the rest of the document is kept.
func TestXMLSecretsOutOfSight(t *testing.T) {
	for name, tc := range map[string]struct{ body, keep string }{
		"comment":        {`<Login><User>ada</User><!-- <Password>Zk1comment</Password> --></Login>`, `<Login><User>ada</User><!--[REDACTED]--></Login>`},
		"escaped inner":  {`<Env><Payload>&lt;Login&gt;&lt;Password&gt;Zk2escaped&lt;/Password&gt;&lt;/Login&gt;</Payload></Env>`, `<Payload>&lt;Login&gt;&lt;Password&gt;[REDACTED]&lt;/Password&gt;&lt;/Login&gt;</Payload>`},
		"cdata inner":    {`<Env><Payload><![CDATA[<Login><Password>Zk3cdata</Password></Login>]]></Payload></Env>`, `<![CDATA[<Login><Password>[REDACTED]</Password></Login>]]>`},
		"inner of inner": {`<Env><P>&lt;Q&gt;&amp;lt;token&amp;gt;Zk4deep&amp;lt;/token&amp;gt;&lt;/Q&gt;</P></Env>`, `<Env><P>&lt;Q&gt;&amp;lt;token&amp;gt;[REDACTED]&amp;lt;/token&amp;gt;&lt;/Q&gt;</P></Env>`},
		"pi":             {`<?xml version="1.0"?><?auth token="Zk6pi"?><Env/>`, `<?auth [REDACTED]?><Env/>`},
		"no declaration": {`<soap:Envelope xmlns:soap="urn:s"><soap:Body><Password>Zk8nodecl</Password></soap:Body></soap:Envelope>`, `<Password>[REDACTED]</Password>`},
	} {
		for _, ct := range []string{"text/xml", ""} {
			r, sc := build(t)
			out, _, err := r.BodyOf(http.Header{"Content-Type": {ct}}, []byte(tc.body))
			if err != nil {
				t.Errorf("%s (%q): %v", name, ct, err)
				continue
			}
			if strings.Contains(string(out), "Zk") || !strings.Contains(string(out), tc.keep) {
				t.Errorf("%s (%q): %s\nwant it masked, with %s", name, ct, out, tc.keep)
			}
			if name != "comment" && name != "pi" && strings.Contains(sc.String(tc.body), "Zk") {
				t.Errorf("%s (%q): the secret was not learned by value", name, ct)
			}
		}
	}
	// Markup that is not XML, without a Content-Type, is text as before.
	r, _ := build(t)
	html := `<p>Hello<br>there</p>`
	if out, _, err := r.BodyOf(http.Header{}, []byte(html)); err != nil || string(out) != html {
		t.Errorf("an HTML fragment without a Content-Type: %q, %v", out, err)
	}
}

// TestXMLNestedDeepIsBounded: XML carried as text in XML, nested as deep
// as 4 MiB allows by a hostile answer, is read a few levels deep only
// (each level parses the text again), and what lies deeper with a secret
// name in it is masked whole.
func TestXMLNestedDeepIsBounded(t *testing.T) {
	doc := "<token>Zk9deepsecret</token>"
	for range 300 {
		var b strings.Builder
		xml.EscapeText(&b, []byte(doc))
		doc = "<a>" + b.String() + "</a>"
		if len(doc) > 4<<20 {
			break
		}
	}
	r, _ := build(t)
	start := time.Now()
	out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/xml"}}, []byte(doc))
	if err != nil || strings.Contains(string(out), "Zk9deepsecret") {
		t.Errorf("%d bytes nested: err %v, secret shown: %v", len(doc), err, strings.Contains(string(out), "Zk9deepsecret"))
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("masking took %v", elapsed)
	}
}
