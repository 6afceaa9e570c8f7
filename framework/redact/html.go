package redact

import (
	"bytes"
	"mime"
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// htmlAttribute is one attribute of a raw HTML start tag: quoted or not.
var htmlAttribute = regexp.MustCompile("([^\\s=<>/\"']+)(\\s*=\\s*)(\"[^\"]*\"|'[^']*'|[^\\s\"'=<>`]+)")

// htmlDocument masks HTML by name, keeping every other byte as written
// (golang.org/x/net/html's tokenizer, which reads any markup): the value
// of a secret attribute (data-api-key="..."), and the value or content of
// an element that names a secret (<input name="authenticity_token"
// value="...">, <meta name="csrf-token" content="...">, <input
// type="password" value="...">). The text of a <script> is masked by the
// script rule (see scriptText); a script of a JSON type (application/json,
// application/ld+json, importmap) by the JSON rules when it parses. The
// masked values are learned. Other text is kept: it is masked as text by
// value.
func (r *Redactor) htmlDocument(body []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(body))
	var out bytes.Buffer
	changed := false
	script, scriptType := false, ""
	secretText := false // the text after <password>, <api-key>: an element named secret
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			out.Write(z.Raw()) // what is left of a document cut short
			break
		}
		raw := append([]byte(nil), z.Raw()...) // TagAttr lower-cases the tokenizer's buffer
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			isScript, typ, secretName, masked := r.htmlTag(z, raw)
			if masked != nil {
				raw, changed = masked, true
			}
			script, scriptType = tt == html.StartTagToken && isScript, typ
			secretText = tt == html.StartTagToken && secretName && !isScript
		case html.DoctypeToken:
			// A window of an XML document shown as text: <!DOCTYPE r [<!ENTITY token "...">
			if masked := r.maskDirective(raw); !bytes.Equal(masked, raw) {
				raw, changed = masked, true
			}
			script = false
		case html.TextToken:
			text := ""
			if !script && (secretText || mayBeCredentialText(raw)) {
				text = strings.TrimSpace(html.UnescapeString(string(raw)))
			}
			switch {
			case script:
				if masked, ok := r.scriptElement(raw, scriptType); ok {
					raw, changed = masked, true
				}
			case text != "" && (secretText || credentialString(text)):
				// <password>…</password>; <p>Bearer …</p>, a JWT: masked
				// whatever the element's name.
				r.learnPair(text)
				raw, changed = []byte(Mask), true
			default:
				if mayHoldCredential(raw) {
					if out, ok := r.inlineCredentials(raw); ok { // "your token is Bearer …", a JWT in prose
						raw, changed = out, true
						break
					}
				}
				if bytes.IndexByte(raw, '&') >= 0 && r.values.Len() > 0 {
					// A character reference (&#65; for "A") hides a secret
					// known by value from the scrubber.
					if text := html.UnescapeString(string(raw)); r.knownIn(text) {
						raw, changed = []byte(html.EscapeString(r.values.String(text))), true
					}
				}
			}
		default:
			script = false
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			secretText = false
		}
		out.Write(raw)
	}
	if !changed {
		return body
	}
	return out.Bytes()
}

// scriptElement masks the text of a <script> element of the given type.
func (r *Redactor) scriptElement(text []byte, typ string) ([]byte, bool) {
	if !hasSecretWord(text, r.extraNames) && r.body.Len() == 0 && !bytes.ContainsAny(text, "@?") {
		return text, false // no secret name, no report.redact path, no URL credential or query: nothing to mask
	}
	media := ""
	if typ != "" {
		media, _, _ = mime.ParseMediaType(typ)
	}
	if strings.HasSuffix(media, "json") || media == "importmap" || media == "speculationrules" {
		if out, err := r.document(text); err == nil {
			// json.Marshal escapes <, > and &: the masked JSON cannot end the script.
			return out, !bytes.Equal(out, text)
		}
	}
	return r.scriptText(text)
}

// htmlTag reports whether a start tag is a <script> and returns its type
// attribute, whether the element's name is secret (<password>), and the
// raw tag with its secret values (and values shaped like a credential)
// masked, or nil when nothing in it is secret.
func (r *Redactor) htmlTag(z *html.Tokenizer, raw []byte) (script bool, typ string, secretName bool, masked []byte) {
	tag, more := z.TagName()
	script = string(tag) == "script"
	secretName = !script && hasSecretWord(tag, r.extraNames) && r.names.Secret(string(tag))
	var names, values []string
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		names, values = append(names, string(k)), append(values, string(v))
		if string(k) == "type" {
			typ = string(v)
		}
	}
	namesSecret := false
	for i, name := range names {
		switch name {
		case "name", "id", "property", "itemprop", "http-equiv":
			namesSecret = namesSecret || r.names.Secret(values[i])
		case "type":
			namesSecret = namesSecret || strings.EqualFold(values[i], "password")
		}
	}
	secret := map[string]bool{}
	for i, name := range names {
		if r.names.Secret(name) || namesSecret && (name == "value" || name == "content") || credentialString(values[i]) {
			secret[name] = true
			r.learn(values[i])
		}
	}
	if len(secret) == 0 && bytes.IndexByte(raw, '&') >= 0 && r.values.Len() > 0 {
		for i, name := range names { // a secret known by value, written with character references
			if r.knownIn(values[i]) {
				secret[name] = true
			}
		}
	}
	if len(secret) == 0 {
		return script, typ, secretName, nil
	}
	return script, typ, secretName, htmlAttribute.ReplaceAllFunc(raw, func(m []byte) []byte {
		sub := htmlAttribute.FindSubmatch(m)
		if !secret[strings.ToLower(string(sub[1]))] {
			return m
		}
		return append(append(append([]byte(nil), sub[1]...), sub[2]...), `"`+Mask+`"`...)
	})
}
