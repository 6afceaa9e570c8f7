package redact

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestXMLBodiesMaskedByName: SOAP and other XML bodies get the same
// by-name masking as JSON and forms: the text of secret elements, however
// deep and whatever their prefix (all of a secret element: UsernameToken
// holds Username), and secret attributes; everything else
// is kept byte for byte, and what was masked is learned by value.
func TestXMLBodiesMaskedByName(t *testing.T) {
	const (
		password = "Zk1111passwordsoap"
		token    = "Zk2222sessiontoken"
		attr     = "Zk3333attrapikey"
		nested   = "Zk4444nestedsecret"
	)
	body := `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsse="urn:wsse">
  <soap:Header><wsse:Security><wsse:UsernameToken><wsse:Username>ada</wsse:Username><wsse:Password Type="PasswordText">` + password + `</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>
  <soap:Body><LoginResult status="ok" apiKey='` + attr + `'><SessionToken>` + token + `</SessionToken><Credentials><inner>` + nested + `</inner></Credentials><Name>Ada &amp; co</Name></LoginResult></soap:Body>
</soap:Envelope>`
	for _, ct := range []string{"application/soap+xml; charset=utf-8", "text/xml", "application/xml", ""} {
		r, sc := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {ct}}, []byte(body))
		if err != nil {
			t.Fatalf("%q: %v", ct, err)
		}
		got := string(out)
		for _, s := range []string{password, token, attr, nested} {
			if strings.Contains(got, s) {
				t.Errorf("%q: %s not masked:\n%s", ct, s, got)
			}
			if echo := sc.String("echo " + s); strings.Contains(echo, s) {
				t.Errorf("%q: %s was not learned by value", ct, s)
			}
		}
		for _, keep := range []string{`xmlns:soap="http://www.w3.org/2003/05/soap-envelope"`, `<wsse:Username>[REDACTED]</wsse:Username>`, `status="ok"`, `<Name>Ada &amp; co</Name>`, `<wsse:Password Type="[REDACTED]">[REDACTED]</wsse:Password>`, `<SessionToken>[REDACTED]</SessionToken>`, `apiKey="[REDACTED]"`} {
			if !strings.Contains(got, keep) {
				t.Errorf("%q: %s not kept as written:\n%s", ct, keep, got)
			}
		}
	}
}

// TestXMLThatDoesNotParseIsWithheld: an XML body the redactor cannot read
// is never printed raw.
func TestXMLThatDoesNotParseIsWithheld(t *testing.T) {
	for name, body := range map[string]string{
		"unclosed":      `<a><password>Zk5555unclosedpw</password>`,
		"mismatched":    `<a><password>Zk5555mismatch</pwd></a>`,
		"two roots":     `<a/><b><token>Zk5555tworoots</token></b>`,
		"text after":    `<a/>Zk5555trailing password=x`,
		"latin1":        `<?xml version="1.0" encoding="ISO-8859-1"?><a><password>Zk5555latin</password></a>`,
		"bad entity":    `<a><password>&nope;Zk5555entity</password></a>`,
		"doctype bomb?": `<!DOCTYPE a [<!ENTITY x "y">]><a><password>&x;Zk5555dtd</password></a>`,
	} {
		r, _ := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/xml"}}, []byte(body))
		if !errors.Is(err, ErrWithheld) || out != nil {
			t.Errorf("%s: got %q, %v; want it withheld", name, out, err)
		}
		if got := r.Value("body", body); strings.Contains(got, "Zk5555") && strings.HasPrefix(body, "<?xml") {
			t.Errorf("%s: shown as text: %q", name, got)
		}
	}
}

// TestXMLTextInDifferences: a whole XML body shown as the value of a
// difference is masked; an HTML page is not withheld for not being XML.
func TestXMLTextInDifferences(t *testing.T) {
	r, _ := build(t)
	if got := r.Value("body", `<r><token>Zk6666difftoken</token><n>1</n></r>`); got != `<r><token>[REDACTED]</token><n>1</n></r>` {
		t.Errorf("XML difference: %q", got)
	}
	if got := r.Value("body", `<?xml version="1.0"?><r><token>Zk6666x</token>`); !strings.HasPrefix(got, "(withheld") {
		t.Errorf("broken XML difference: %q", got)
	}
	page := `<html><body><p>Hello<br></body></html>`
	if got := r.Value("body", page); got != page {
		t.Errorf("HTML page: %q", got)
	}
}
