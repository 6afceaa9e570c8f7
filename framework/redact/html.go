package redact

import (
	"bytes"
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
// type="password" value="...">). The masked values are learned. Text and
// scripts are kept: they are masked as text by value.
func (r *Redactor) htmlDocument(body []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(body))
	var out bytes.Buffer
	changed := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			out.Write(z.Raw()) // what is left of a document cut short
			break
		}
		raw := append([]byte(nil), z.Raw()...) // TagAttr lower-cases the tokenizer's buffer
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			if masked := r.htmlTag(z, raw); masked != nil {
				raw, changed = masked, true
			}
		}
		out.Write(raw)
	}
	if !changed {
		return body
	}
	return out.Bytes()
}

// htmlTag returns the raw start tag with its secret values masked, or nil
// when nothing in it is secret.
func (r *Redactor) htmlTag(z *html.Tokenizer, raw []byte) []byte {
	_, more := z.TagName()
	var names, values []string
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		names, values = append(names, string(k)), append(values, string(v))
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
		if r.names.Secret(name) || namesSecret && (name == "value" || name == "content") {
			secret[name] = true
			r.learn(values[i])
		}
	}
	if len(secret) == 0 {
		return nil
	}
	return htmlAttribute.ReplaceAllFunc(raw, func(m []byte) []byte {
		sub := htmlAttribute.FindSubmatch(m)
		if !secret[strings.ToLower(string(sub[1]))] {
			return m
		}
		return append(append(append([]byte(nil), sub[1]...), sub[2]...), `"`+Mask+`"`...)
	})
}
