package redact

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// isXML reports whether a media type is an XML document (SOAP included).
func isXML(media string) bool {
	return media == "application/xml" || media == "text/xml" || strings.HasSuffix(media, "+xml")
}

// attribute is one name="value" or name='value' of a start tag.
var attribute = regexp.MustCompile(`([^\s=<>/"']+)(\s*=\s*)("[^"]*"|'[^']*')`)

// xmlDocument masks an XML document by name, keeping every other byte as
// written: the text inside an element whose name is secret
// (<wsse:Password>, <SessionToken>), however deep, and the value of a
// secret attribute (password="..."). The masked values are learned, so
// that an echo elsewhere is scrubbed by value. It returns an error when
// the body is not one well-formed XML document (or declares an encoding
// other than UTF-8): such a body must be withheld.
func (r *Redactor) xmlDocument(body []byte) ([]byte, error) {
	return r.xmlNested(body, 0)
}

// maxInnerXML bounds how deep XML carried as text inside XML is masked:
// each level parses the text again, and a hostile answer could nest
// hundreds of levels in a megabyte.
const maxInnerXML = 4

// xmlNested is xmlDocument for a document carried as text at the given
// level of nesting.
func (r *Redactor) xmlNested(body []byte, level int) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var out bytes.Buffer
	secretDepth, depth, roots := 0, 0, 0 // secretDepth: the depth of the outermost secret element we are in, 0 when none
	changed := false
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		raw := body[start:dec.InputOffset()]
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				roots++
			}
			if secretDepth == 0 && r.names.Secret(t.Name.Local) {
				secretDepth = depth
			}
			masked := false
			for _, a := range t.Attr {
				if r.names.Secret(a.Name.Local) || secretDepth > 0 {
					r.learn(a.Value)
					masked = true
				}
			}
			if masked {
				raw = r.maskAttributes(raw, secretDepth > 0)
				changed = true
			}
		case xml.EndElement:
			if depth == secretDepth {
				secretDepth = 0
			}
			depth--
		case xml.CharData:
			if secretDepth > 0 && len(bytes.TrimSpace(t)) > 0 {
				r.learn(string(t))
				r.learn(strings.TrimSpace(string(t)))
				raw = []byte(Mask)
				changed = true
			} else if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			} else if inner, ok := r.innerDocument(t, raw, level+1); ok {
				raw = inner // XML carried as text (escaped or CDATA) in a SOAP payload
				changed = true
			}
		case xml.Comment:
			if r.secretWords(string(t)) {
				raw = []byte("<!--" + Mask + "-->") // a commented-out <Password>...
				changed = true
			}
		case xml.ProcInst:
			if t.Target != "xml" && r.secretWords(string(t.Inst)) {
				raw = []byte("<?" + t.Target + " " + Mask + "?>")
				changed = true
			}
		}
		out.Write(raw)
	}
	if roots != 1 {
		return nil, errors.New("not one XML document")
	}
	if !changed {
		return body, nil
	}
	return out.Bytes(), nil
}

// maskAttributes masks, in a raw start tag, the values of the secret
// attributes (all of them when inside is set: the tag is inside a secret
// element).
func (r *Redactor) maskAttributes(tag []byte, inside bool) []byte {
	return attribute.ReplaceAllFunc(tag, func(m []byte) []byte {
		sub := attribute.FindSubmatch(m)
		name := string(sub[1])
		if i := strings.LastIndexByte(name, ':'); i >= 0 {
			if name[:i] == "xmlns" {
				return m
			}
			name = name[i+1:]
		}
		if name == "xmlns" || !inside && !r.names.Secret(name) {
			return m
		}
		return append(append(append([]byte(nil), sub[1]...), sub[2]...), `"`+Mask+`"`...)
	})
}

// word is a name as it may appear in free text: a comment or a
// processing instruction.
var word = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_.-]*`)

// secretWords reports whether text holds a secret name (a commented-out
// <Password> element, a token="..." pseudo-attribute).
func (r *Redactor) secretWords(text string) bool {
	for _, w := range word.FindAllString(text, -1) {
		if r.names.Secret(w) {
			return true
		}
	}
	return false
}

// innerDocument masks text that is itself an XML document (escaped, or in
// a CDATA section, as SOAP payloads carry XML) and returns it re-encoded
// as raw was: ok is false when the text is not XML or nothing in it is
// secret.
func (r *Redactor) innerDocument(text, raw []byte, level int) ([]byte, bool) {
	trimmed := bytes.TrimSpace(text)
	if len(trimmed) == 0 || trimmed[0] != '<' {
		return nil, false
	}
	if level > maxInnerXML {
		if r.secretWords(string(text)) {
			return []byte(Mask), true // too deep to read: masked whole
		}
		return nil, false
	}
	inner, err := r.xmlNested(text, level)
	if err != nil || bytes.Equal(inner, text) {
		return nil, false
	}
	if bytes.HasPrefix(raw, []byte("<![CDATA[")) && !bytes.Contains(inner, []byte("]]>")) {
		return append(append([]byte("<![CDATA["), inner...), "]]>"...), true
	}
	var out bytes.Buffer
	xml.EscapeText(&out, inner)
	return out.Bytes(), true
}
