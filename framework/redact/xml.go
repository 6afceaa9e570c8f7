package redact

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
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

// maxXMLDepth bounds how deep elements nest in a document that is masked
// (as encoding/json bounds JSON): the pair rule keeps a little state per
// open element. A deeper document is withheld.
const maxXMLDepth = 10000

// xmlFrame is what xmlNested keeps about one open element for the pair
// rule (pairs.go).
type xmlFrame struct {
	secretPair bool    // a label attribute or child named a secret: value children are masked
	label      bool    // a label child (<key>, <name>): its text is read into xmlNested's label
	notLabel   bool    // the label child holds elements or too much text
	isValue    bool    // a value child that may yet be masked: value is where it stands
	value      xmlSpan // where it stands
	heldFrom   int     // held[heldFrom:] are its value children seen before the label that names them
}

// xmlSpan is a value child of an element not (yet) known to be a secret
// pair: where its start tag and content are in the output, and the range
// of the document's collected texts it holds (learned if it is masked).
type xmlSpan struct {
	tagStart, tagEnd, end int
	textFrom, textTo      int
}

// xmlText is a text a value child holds: an attribute's value, or the
// raw bytes body[from:to] of its character data, decoded when it is
// learned (rarely: only when the value child turns out to be secret).
type xmlText struct {
	attr     string
	from, to int
}

// value returns the text: the attribute's value, or the character data
// unescaped (the predefined entities and character references that
// encoding/xml accepts, or the inside of a CDATA section).
func (t xmlText) value(body []byte) string {
	if t.to == 0 {
		return t.attr
	}
	raw := body[t.from:t.to]
	if inside, ok := bytes.CutPrefix(raw, []byte("<![CDATA[")); ok {
		return string(bytes.TrimSuffix(inside, []byte("]]>")))
	}
	return html.UnescapeString(string(raw))
}

// xmlMask replaces out[start:end] with with.
type xmlMask struct {
	start, end int
	with       []byte
}

// xmlNested is xmlDocument for a document carried as text at the given
// level of nesting.
func (r *Redactor) xmlNested(body []byte, level int) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var out bytes.Buffer
	secretDepth, depth, roots := 0, 0, 0 // secretDepth: the depth of the outermost secret element we are in, 0 when none
	changed := false
	var (
		frames []xmlFrame
		texts  []xmlText // text of pending value children, learned if they are masked
		label  []byte    // the text of the label child being read
		masks  []xmlMask
		open   int       // value children open that may yet be masked
		held   []xmlSpan // value children closed, waiting in their parent for its label: a stack, see heldFrom
	)
	// pairFound masks the value children f saw before its label.
	pairFound := func(f *xmlFrame) {
		f.secretPair = true
		for _, sp := range held[f.heldFrom:] {
			for _, t := range texts[sp.textFrom:sp.textTo] {
				v := t.value(body)
				r.learnPair(v)
				r.learnPair(strings.TrimSpace(v))
			}
			tag := out.Bytes()[sp.tagStart:sp.tagEnd]
			if masked := r.maskAttributes(tag, true, false); !bytes.Equal(masked, tag) {
				masks = append(masks, xmlMask{sp.tagStart, sp.tagEnd, masked})
			}
			if len(bytes.TrimSpace(out.Bytes()[sp.tagEnd:sp.end])) > 0 {
				masks = append(masks, xmlMask{sp.tagEnd, sp.end, []byte(Mask)})
			}
		}
		held = held[:f.heldFrom]
	}
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
			if depth > maxXMLDepth {
				return nil, fmt.Errorf("elements nested deeper than %d", maxXMLDepth)
			}
			var parent *xmlFrame
			if len(frames) > 0 {
				parent = &frames[len(frames)-1]
				if parent.label {
					parent.notLabel = true // <key><b>token</b></key> is not a name
				}
			}
			if secretDepth == 0 && (r.names.Secret(t.Name.Local) || parent != nil && parent.secretPair && isValue(t.Name.Local)) {
				secretDepth = depth
			}
			pairAttr := false
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && isLabel(a.Name.Local) && r.secretLabel(a.Value) {
					pairAttr = true // <Param name="password">, <Property key="apiKey" value="...">
				}
			}
			masked := false
			for _, a := range t.Attr {
				if r.names.Secret(a.Name.Local) || secretDepth > 0 || pairAttr && isValue(a.Name.Local) || credentialString(a.Value) {
					r.learn(a.Value)
					masked = true
				}
			}
			if !masked && bytes.IndexByte(raw, '&') >= 0 && r.values.Len() > 0 {
				// A character reference (&#65; for "A") hides a secret
				// known by value from the scrubber: such a value is
				// masked, with every attribute of the element.
				for _, a := range t.Attr {
					masked = masked || r.knownIn(a.Value)
				}
				if masked {
					raw = r.maskAttributes(raw, true, false)
					changed = true
				}
			} else if masked {
				raw = r.maskAttributes(raw, secretDepth > 0, pairAttr)
				changed = true
			}
			if pairAttr && secretDepth == 0 {
				secretDepth = depth // the element's content is the pair's value
			}
			f := xmlFrame{label: parent != nil && isLabel(t.Name.Local), heldFrom: len(held)}
			if f.label {
				label = label[:0]
			}
			if secretDepth == 0 && parent != nil && isValue(t.Name.Local) {
				f.isValue = true
				f.value = xmlSpan{tagStart: out.Len(), tagEnd: out.Len() + len(raw), textFrom: len(texts)}
				for _, a := range t.Attr {
					texts = append(texts, xmlText{attr: a.Value})
				}
				open++
			}
			frames = append(frames, f)
		case xml.EndElement:
			f := &frames[len(frames)-1]
			if depth == secretDepth {
				secretDepth = 0
			}
			depth--
			held = held[:f.heldFrom] // the element ends: the label of its value children never came
			if len(frames) > 1 {
				parent := &frames[len(frames)-2]
				switch {
				case f.isValue:
					f.value.end, f.value.textTo = out.Len(), len(texts)
					held = append(held, f.value)
					open--
				case f.label && !f.notLabel && hasSecretWord(label, r.extraNames) && r.secretLabel(string(label)):
					pairFound(parent)
				}
			}
			frames = frames[:len(frames)-1]
			if open == 0 && len(held) == 0 {
				texts = texts[:0]
			}
		case xml.CharData:
			if len(frames) > 0 {
				if f := &frames[len(frames)-1]; f.label && !f.notLabel {
					if len(label)+len(t) > maxLabel {
						f.notLabel = true
					} else {
						label = append(label, t...)
					}
				}
			}
			if secretDepth > 0 && len(bytes.TrimSpace(t)) > 0 {
				r.learnPair(string(t))
				r.learnPair(strings.TrimSpace(string(t)))
				raw = []byte(Mask)
				changed = true
			} else if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			} else {
				if open > 0 && len(bytes.TrimSpace(t)) > 0 {
					texts = append(texts, xmlText{from: int(start), to: int(dec.InputOffset())})
				}
				if mayBeCredentialText(t) && credentialString(string(bytes.TrimSpace(t))) {
					r.learn(string(bytes.TrimSpace(t))) // <a>Bearer …</a>, a JWT: masked whatever the element's name
					raw = []byte(Mask)
					changed = true
				} else if inner, ok := r.innerDocument(t, raw, level+1); ok {
					raw = inner // XML carried as text (escaped or CDATA) in a SOAP payload
					changed = true
				} else if bytes.IndexByte(raw, '&') >= 0 && r.knownIn(string(t)) {
					var text bytes.Buffer // written with references, a secret known by value
					xml.EscapeText(&text, []byte(r.values.String(string(t))))
					raw = text.Bytes()
					changed = true
				} else if mayHoldCredential(raw) {
					if out, ok := r.inlineCredentials(raw); ok { // "sent Bearer …", a JWT in prose
						raw, changed = out, true
					}
				}
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
		case xml.Directive:
			if masked := r.maskDirective(raw); !bytes.Equal(masked, raw) {
				raw = masked
				changed = true
			}
		}
		out.Write(raw)
	}
	if roots != 1 {
		return nil, errors.New("not one XML document")
	}
	if len(masks) > 0 {
		return applyMasks(out.Bytes(), masks), nil
	}
	if !changed {
		return body, nil
	}
	return out.Bytes(), nil
}

// knownIn reports whether text holds a secret known by value.
func (r *Redactor) knownIn(text string) bool {
	return r.values != nil && r.values.Len() > 0 && r.values.String(text) != text
}

// applyMasks replaces the spans of masks in b; a span inside another one
// is already replaced with it.
func applyMasks(b []byte, masks []xmlMask) []byte {
	slices.SortFunc(masks, func(x, y xmlMask) int {
		if x.start != y.start {
			return x.start - y.start
		}
		return y.end - x.end
	})
	out := make([]byte, 0, len(b))
	at := 0
	for _, m := range masks {
		if m.start < at {
			continue // inside a span already replaced
		}
		out = append(append(out, b[at:m.start]...), m.with...)
		at = m.end
	}
	return append(out, b[at:]...)
}

// maskAttributes masks, in a raw start tag, the values of the secret
// attributes (all of them when inside is set: the tag is inside a secret
// element; value attributes too when pair is set: a label attribute of
// the tag names a secret) and the values shaped like a credential
// (credentialString). Namespace declarations are kept, but for a
// prefix that is a secret name (xmlns:token="...").
func (r *Redactor) maskAttributes(tag []byte, inside, pair bool) []byte {
	return attribute.ReplaceAllFunc(tag, func(m []byte) []byte {
		sub := attribute.FindSubmatch(m)
		name := string(sub[1])
		if i := strings.LastIndexByte(name, ':'); i >= 0 {
			if name[:i] == "xmlns" && !r.names.Secret(name[i+1:]) {
				return m
			}
			name = name[i+1:]
		}
		if name == "xmlns" || !inside && !r.names.Secret(name) && !(pair && isValue(name)) && !credentialString(html.UnescapeString(string(sub[3][1:len(sub[3])-1]))) {
			return m
		}
		return append(append(append([]byte(nil), sub[1]...), sub[2]...), `"`+Mask+`"`...)
	})
}

// entityDecl is an entity declaration of a DOCTYPE's internal subset:
// its name, then its literals (a value, or a system and public id).
var (
	entityDecl = regexp.MustCompile(`<!ENTITY\s+(?:%\s+)?([^\s"'>%]+)((?:\s+(?:SYSTEM|PUBLIC|NDATA|[^\s"'>]+)|\s*"[^"]*"|\s*'[^']*')*)`)
	literal    = regexp.MustCompile(`"[^"]*"|'[^']*'`)
	comment    = regexp.MustCompile(`(?s)<!--.*?-->`)
)

// maskDirective masks a DOCTYPE (or other <!...> directive) by name: the
// literals of an entity whose name is secret (<!ENTITY token "...">), URL
// credentials and secret parameters in other literals, and comments that
// hold a secret name. A document that refers to an entity it declares is
// not masked at all: encoding/xml knows only the predefined entities, so
// such a body does not parse and is withheld.
func (r *Redactor) maskDirective(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("<!ENTITY")) && !bytes.Contains(raw, []byte("<!--")) {
		return raw
	}
	raw = entityDecl.ReplaceAllFunc(raw, func(m []byte) []byte {
		sub := entityDecl.FindSubmatchIndex(m)
		secret := r.names.Secret(string(m[sub[2]:sub[3]]))
		lits := literal.ReplaceAllFunc(m[sub[4]:sub[5]], func(l []byte) []byte {
			v := string(l[1 : len(l)-1])
			if secret {
				r.learn(v)
				return []byte(`"` + Mask + `"`)
			}
			if t := r.Text(v); t != v {
				return []byte(`"` + t + `"`)
			}
			return l
		})
		return append(append([]byte(nil), m[:sub[4]]...), lits...)
	})
	return comment.ReplaceAllFunc(raw, func(c []byte) []byte {
		if r.secretWords(string(c[4 : len(c)-3])) {
			return []byte("<!--" + Mask + "-->")
		}
		return c
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
