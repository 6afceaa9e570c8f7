package compare

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// A JSON body is read once, token by token, into a tape: a flat slice of
// nodes in document order whose strings and numbers are spans of the body
// itself. No map, interface value or string is built per value, and the
// tapes and decoders are pooled, so comparing a pair allocates almost
// nothing beyond the diffs it reports. Object members keep document order on
// the tape; the walker sorts them by name when it compares two objects.

// nodeKind is the JSON type of a node.
type nodeKind uint8

const (
	kindNull nodeKind = iota + 1
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindObject
	kindArray
)

// span is a byte range of the body, or of the tape's arena for strings that
// had escapes or invalid UTF-8 and had to be decoded.
type span struct {
	off, len int32
	arena    bool
}

// node is one JSON value on a tape.
type node struct {
	kind nodeKind
	// value is a number's literal or a string's decoded content.
	value span
	// key is the member name when the node is an object member.
	key span
	// end is the index one past the node's subtree: its next sibling.
	end int32
	// count is the number of members or elements of a container.
	count int32
}

// tape is one decoded JSON document.
type tape struct {
	src   []byte
	arena []byte
	nodes []node
	dec   jsontext.Decoder
	buf   bytes.Buffer
}

var tapes = sync.Pool{New: func() any { return new(tape) }}

// decodeOptions match encoding/json: duplicate names are allowed (the last
// one wins) and invalid UTF-8 in strings becomes U+FFFD.
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

var (
	errTrailingData = errors.New("data after the JSON value")
	errTooLarge     = errors.New("body too large to compare as JSON (over 2 GiB)")
)

// parseTape decodes body into a pooled tape; release it with put.
func parseTape(body []byte) (*tape, error) {
	if len(body) > math.MaxInt32 {
		return nil, errTooLarge // spans are 32-bit
	}
	t := tapes.Get().(*tape)
	t.src, t.arena, t.nodes = body, t.arena[:0], t.nodes[:0]
	t.buf = *bytes.NewBuffer(body) // the decoder reads the body in place
	t.dec.Reset(&t.buf, decodeOptions...)
	err := t.value(span{})
	if err == nil && t.dec.PeekKind() != 0 {
		err = errTrailingData
	}
	if err == nil {
		if _, err = t.dec.ReadToken(); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errTrailingData
		}
	}
	if err != nil {
		t.put()
		return nil, jsonError(err)
	}
	return t, nil
}

// put returns t to the pool. Nothing may use t, or strings made from its
// spans, afterwards.
func (t *tape) put() {
	t.src = nil
	t.buf = bytes.Buffer{}
	t.dec.Reset(&t.buf)       // drop the decoder's reference to the body
	if cap(t.nodes) > 1<<16 { // do not pin the memory of one huge body
		t.nodes, t.arena = nil, nil
	}
	tapes.Put(t)
}

// jsonError turns a decoder error into the short note a Diff shows.
func jsonError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return io.ErrUnexpectedEOF // also: an empty body is not a JSON document
	}
	if err == errTrailingData || err == errTooLarge || err == errTooManyValues {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "jsontext: ")
	return errors.New(msg)
}

// value reads one value (an object member when key is set) and its
// subtree onto the tape.
func (t *tape) value(key span) error {
	i := len(t.nodes)
	if i >= MaxJSONValues {
		return errTooManyValues
	}
	if i == cap(t.nodes) {
		// Double, up to the limit: append grows large slices by a
		// quarter, which allocates five times the final tape on the way.
		grown := make([]node, i, min(max(2*i, 256), MaxJSONValues))
		copy(grown, t.nodes)
		t.nodes = grown
	}
	t.nodes = append(t.nodes, node{key: key})
	var n node
	switch kind := t.dec.PeekKind(); kind {
	case '{', '[':
		if _, err := t.dec.ReadToken(); err != nil {
			return err
		}
		n.kind = kindArray
		closing := jsontext.Kind(']')
		if kind == '{' {
			n.kind, closing = kindObject, '}'
		}
		for t.dec.PeekKind() != closing {
			var name span
			if n.kind == kindObject {
				raw, err := t.dec.ReadValue()
				if err != nil {
					return err
				}
				name = t.stringSpan(raw)
			}
			if err := t.value(name); err != nil {
				return err
			}
			n.count++
		}
		if _, err := t.dec.ReadToken(); err != nil {
			return err
		}
	default:
		raw, err := t.dec.ReadValue()
		if err != nil {
			return err
		}
		switch kind {
		case 'n':
			n.kind = kindNull
		case 'f':
			n.kind = kindFalse
		case 't':
			n.kind = kindTrue
		case '"':
			n.kind, n.value = kindString, t.stringSpan(raw)
		default:
			n.kind, n.value = kindNumber, t.rawSpan(raw)
		}
	}
	n.key = key
	n.end = int32(len(t.nodes))
	t.nodes[i] = n
	return nil
}

// rawSpan locates raw, the value just read, in the body.
func (t *tape) rawSpan(raw []byte) span {
	end := t.dec.InputOffset()
	return span{off: int32(end) - int32(len(raw)), len: int32(len(raw))}
}

// stringSpan is the decoded content of the string literal raw just read:
// a span of the body when it needs no decoding, else of the arena.
func (t *tape) stringSpan(raw []byte) span {
	s := t.rawSpan(raw)
	content := raw[1 : len(raw)-1]
	if bytes.IndexByte(content, '\\') < 0 && asciiOrValid(content) {
		return span{off: s.off + 1, len: s.len - 2}
	}
	start := len(t.arena)
	t.arena, _ = jsontext.AppendUnquote(t.arena, raw) // validated by the decoder
	return span{off: int32(start), len: int32(len(t.arena) - start), arena: true}
}

func asciiOrValid(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return utf8.Valid(b)
		}
	}
	return true
}

// bytes returns the bytes of a span.
func (t *tape) bytes(s span) []byte {
	if s.arena {
		return t.arena[s.off : s.off+s.len]
	}
	return t.src[s.off : s.off+s.len]
}
