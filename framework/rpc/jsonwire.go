package rpc

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Recorded request messages (protojson) encoded straight to wire bytes.
//
// Each recorded request is read from its protojson once, then sent in wire
// bytes. appendJSONWire encodes the plain protojson a recorder writes
// (JSON names, numbers as numbers or 64-bit integers as strings, enum
// names, nested messages, repeated fields) without building a dynamic
// message; it declines anything else (proto names, null, maps, bytes,
// numbers written with a fraction or an exponent, special floats, a name
// given twice, an unknown name or enum value, escaped names, well-known
// types...), which protojson then reads, and reports errors for, as
// before. FuzzJSONWire checks that what it encodes decodes to the message
// protojson reads.

// maxJSONWireBytes is the longest message appendJSONWire reads.
const maxJSONWireBytes = 1 << 16

type jsonWire struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var jsonWires = sync.Pool{New: func() any { return new(jsonWire) }}

// appendJSONWire appends the wire bytes of the message of type md given
// as protojson, and reports whether it could (buf unchanged when not).
func (d *Descriptors) appendJSONWire(buf []byte, md protoreflect.MessageDescriptor, data []byte) ([]byte, bool) {
	p := d.wirePlan(md)
	if !p.ok || len(data) > maxJSONWireBytes {
		return buf, false
	}
	j := jsonWires.Get().(*jsonWire)
	j.buf = *bytes.NewBuffer(data)
	j.dec.Reset(&j.buf) // strict: a name given twice, invalid UTF-8 declined
	out, ok := j.message(buf, p, 0)
	if ok {
		_, err := j.dec.ReadToken()
		ok = err == io.EOF
	}
	j.buf = bytes.Buffer{}
	j.dec.Reset(&j.buf)
	jsonWires.Put(j)
	if !ok {
		return buf, false
	}
	return out, true
}

func (j *jsonWire) message(out []byte, p *jsonPlan, depth int) ([]byte, bool) {
	if !p.ok || depth > maxWireJSONDepth || j.dec.PeekKind() != '{' {
		return out, false
	}
	if _, err := j.dec.ReadToken(); err != nil {
		return out, false
	}
	var oneofs uint64
	for j.dec.PeekKind() == '"' {
		name, err := j.dec.ReadValue()
		if err != nil || bytes.IndexByte(name, '\\') >= 0 {
			return out, false
		}
		i, known := p.byJSON[string(name[1:len(name)-1])]
		if !known {
			return out, false
		}
		f := &p.fields[i]
		if f.unsupported || f.isMap || f.kind == protoreflect.BytesKind {
			return out, false
		}
		if f.oneof > 0 {
			bit := uint64(1) << (f.oneof - 1)
			if oneofs&bit != 0 {
				return out, false
			}
			oneofs |= bit
		}
		var ok bool
		if f.list {
			out, ok = j.list(out, f, depth)
		} else {
			out, ok = j.value(out, f, !f.presence, depth)
		}
		if !ok {
			return out, false
		}
	}
	tok, err := j.dec.ReadToken()
	return out, err == nil && tok.Kind() == '}'
}

// list encodes a repeated field's array, each value with its tag
// (unpacked, which every parser accepts).
func (j *jsonWire) list(out []byte, f *jsonField, depth int) ([]byte, bool) {
	if j.dec.PeekKind() != '[' {
		return out, false
	}
	if _, err := j.dec.ReadToken(); err != nil {
		return out, false
	}
	for k := j.dec.PeekKind(); k != ']'; k = j.dec.PeekKind() {
		if k == 0 || k == 'n' {
			return out, false
		}
		var ok bool
		if out, ok = j.value(out, f, false, depth); !ok {
			return out, false
		}
	}
	_, err := j.dec.ReadToken()
	return out, err == nil
}

// value encodes one value of f with its tag; skipZero leaves out a zero
// value (proto3's implicit presence: protojson sets it, proto.Marshal
// writes nothing).
func (j *jsonWire) value(out []byte, f *jsonField, skipZero bool, depth int) ([]byte, bool) {
	kind := j.dec.PeekKind()
	if f.kind == protoreflect.MessageKind {
		out = protowire.AppendTag(out, f.num, protowire.BytesType)
		body := len(out)
		var ok bool
		if out, ok = j.message(out, f.msg, depth+1); !ok {
			return out, false
		}
		// The length goes before the body: room for it, then the body
		// moved after it.
		n := len(out) - body
		var tmp [binaryMaxVarint]byte
		length := protowire.AppendVarint(tmp[:0], uint64(n))
		out = append(out, length...)
		copy(out[body+len(length):], out[body:body+n])
		copy(out[body:], length)
		return out, true
	}
	raw, err := j.dec.ReadValue()
	if err != nil {
		return out, false
	}
	var v uint64
	switch f.kind {
	case protoreflect.BoolKind:
		switch kind {
		case 't':
			v = 1
		case 'f':
		default:
			return out, false
		}
	case protoreflect.EnumKind:
		var n int64
		switch {
		case kind == '"' && bytes.IndexByte(raw, '\\') < 0:
			num, ok := f.byName[string(raw[1:len(raw)-1])]
			if !ok {
				return out, false
			}
			n = int64(num)
		case kind == '0':
			var ok bool
			if n, ok = plainInt(raw, 32); !ok {
				return out, false
			}
		default:
			return out, false
		}
		v = uint64(n)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		bits := 32
		if f.wire == protowire.Fixed64Type || f.kind == protoreflect.Int64Kind || f.kind == protoreflect.Sint64Kind {
			bits = 64
		}
		if kind == '"' && bits == 64 {
			raw = raw[1 : len(raw)-1] // 64-bit integers as strings
		} else if kind != '0' {
			return out, false
		}
		n, ok := plainInt(raw, bits)
		if !ok {
			return out, false
		}
		switch f.kind {
		case protoreflect.Sint32Kind:
			v = protowire.EncodeZigZag(n)
		case protoreflect.Sint64Kind:
			v = protowire.EncodeZigZag(n)
		case protoreflect.Sfixed32Kind:
			v = uint64(uint32(int32(n)))
		default:
			v = uint64(n)
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		bits := 32
		if f.kind == protoreflect.Uint64Kind || f.kind == protoreflect.Fixed64Kind {
			bits = 64
		}
		if kind == '"' && bits == 64 {
			raw = raw[1 : len(raw)-1]
		} else if kind != '0' {
			return out, false
		}
		if len(raw) == 0 || raw[0] == '-' || !plainDigits(raw) {
			return out, false
		}
		n, err := strconv.ParseUint(string(raw), 10, bits)
		if err != nil {
			return out, false
		}
		v = n
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if kind != '0' {
			return out, false // "NaN", "Infinity", numbers as strings: protojson's
		}
		bits := 64
		if f.kind == protoreflect.FloatKind {
			bits = 32
		}
		x, err := strconv.ParseFloat(string(raw), bits)
		if err != nil {
			return out, false
		}
		if bits == 32 {
			v = uint64(math.Float32bits(float32(x)))
		} else {
			v = math.Float64bits(x)
		}
	case protoreflect.StringKind:
		if kind != '"' {
			return out, false
		}
		s := raw[1 : len(raw)-1]
		if bytes.IndexByte(raw, '\\') >= 0 {
			unquoted, err := jsontext.AppendUnquote(nil, raw)
			if err != nil {
				return out, false
			}
			s = unquoted
		}
		if skipZero && len(s) == 0 {
			return out, true
		}
		out = protowire.AppendTag(out, f.num, protowire.BytesType)
		return protowire.AppendBytes(out, s), true
	default:
		return out, false
	}
	if skipZero && v == 0 {
		return out, true // +0 only for floats: -0 has its sign bit
	}
	out = protowire.AppendTag(out, f.num, f.wire)
	switch f.wire {
	case protowire.Fixed32Type:
		return protowire.AppendFixed32(out, uint32(v)), true
	case protowire.Fixed64Type:
		return protowire.AppendFixed64(out, v), true
	}
	if f.kind == protoreflect.Int32Kind || f.kind == protoreflect.EnumKind {
		v = uint64(int64(int32(v))) // negative int32: ten bytes, sign-extended, as proto writes it
	}
	return protowire.AppendVarint(out, v), true
}

// binaryMaxVarint is the longest varint.
const binaryMaxVarint = 10

// plainInt parses an integer written without sign (other than '-'),
// fraction or exponent, within bits.
func plainInt(raw []byte, bits int) (int64, bool) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || !plainDigits(digits) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, bits)
	return n, err == nil
}

// plainDigits: only digits, no leading zero (but "0").
func plainDigits(b []byte) bool {
	if len(b) > 1 && b[0] == '0' {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
