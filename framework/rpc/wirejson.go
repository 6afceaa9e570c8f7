package rpc

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Canonical protojson written straight from wire bytes.
//
// The runner's answers are wire bytes, and the comparator reads their
// canonical protojson. Building a dynamic message and marshalling it with
// protojson costs about a fifth of a replay's CPU; appendWireJSON walks the
// wire bytes once with the message's descriptor instead, and writes exactly
// the bytes protojson + framework.CompactJSON write (FuzzWireJSON and
// TestWireJSONKinds compare both on every kind of field).
//
// It covers what protojson writes in a plain way: every scalar kind,
// packed and unpacked repeated fields, maps, nested messages, oneofs, open
// enums (unknown numbers as numbers), float specials, proto3 presence
// rules, and unknown fields (skipped: protojson does not write them). It
// declines (ok false), and the caller takes the dynamic message and
// protojson, for anything else: well-known types (google.protobuf.*, whose
// JSON is special), closed enums, groups, extensions, required fields, a
// field that is not repeated given twice (merged or replaced), two members
// of a oneof, a map key given twice, a wire type that does not match the
// field, invalid UTF-8, malformed bytes (the slow path reports the error),
// and nesting deeper than maxWireJSONDepth.

// maxWireJSONDepth is the deepest nesting appendWireJSON writes itself.
const maxWireJSONDepth = 64

// maxWireJSONFields is the most values (a repeated field's elements
// counted one by one, a packed run as one) that the messages being
// written, from the answer down to the innermost, may give together for
// appendWireJSON to write them: its scratch space stays under a few MB
// (24 bytes a value, twice when fields come out of order), whatever the
// answer's size.
const maxWireJSONFields = 1 << 16

// jsonPlan is what appendWireJSON needs of a message type.
type jsonPlan struct {
	// ok is false when the message itself needs protojson (a
	// well-known type, extensions, required fields, an unsupported
	// field).
	ok     bool
	fields []jsonField // in declaration order (protojson's order)
	// byNumber maps a field number below len(byNumber) to 1 + its index
	// in fields (0: unknown); larger numbers are in high.
	byNumber []int32
	high     map[protowire.Number]int32
	// byJSON maps each field's JSON name to its index (appendJSONWire).
	byJSON map[string]int32
}

// index returns the index of field num in p.fields, or -1.
func (p *jsonPlan) index(num protowire.Number) int32 {
	if int(num) < len(p.byNumber) {
		return p.byNumber[num] - 1
	}
	if i, ok := p.high[num]; ok {
		return i
	}
	return -1
}

// jsonField is one field of a jsonPlan.
type jsonField struct {
	name     []byte // `"jsonName":`
	kind     protoreflect.Kind
	wire     protowire.Type // the wire type of one value
	list     bool
	packable bool // a repeated scalar: packed values accepted
	isMap    bool
	presence bool // written when set, even to its zero value
	// unsupported: protojson writes it its own way (a group, a closed
	// enum, google.protobuf.NullValue...): a message that gives it is left
	// to protojson.
	unsupported bool
	num         protowire.Number
	byName      map[string]int32 // an enum's numbers by value name
	oneof       int32            // 1 + the index of its (non-synthetic) oneof
	enum        *enumNames
	msg         *jsonPlan
	key, val    *jsonField // a map's entry fields
	def         uint64     // a map value's default, as a varint (enums)
}

// enumNames are an enum's value names, quoted, by number (the name
// protojson writes: Values().ByNumber).
type enumNames struct {
	low  [][]byte // numbers 0..len-1
	high map[int32][]byte
}

func (e *enumNames) name(n int32) []byte {
	if n >= 0 && int(n) < len(e.low) {
		return e.low[n]
	}
	return e.high[n]
}

// plans caches the jsonPlan of each message type (Descriptors.plans).
type plans struct {
	mu sync.Mutex
	m  sync.Map // protoreflect.FullName → *jsonPlan
}

// wirePlan returns md's plan, building the plans of md and every message
// it reaches once.
func (d *Descriptors) wirePlan(md protoreflect.MessageDescriptor) *jsonPlan {
	if p, ok := d.plans.m.Load(md.FullName()); ok {
		return p.(*jsonPlan)
	}
	d.plans.mu.Lock()
	defer d.plans.mu.Unlock()
	if p, ok := d.plans.m.Load(md.FullName()); ok {
		return p.(*jsonPlan)
	}
	built := map[protoreflect.FullName]*jsonPlan{}
	p := buildPlan(md, built)
	for name, plan := range built {
		d.plans.m.LoadOrStore(name, plan)
	}
	return p
}

func buildPlan(md protoreflect.MessageDescriptor, built map[protoreflect.FullName]*jsonPlan) *jsonPlan {
	if p := built[md.FullName()]; p != nil {
		return p
	}
	p := &jsonPlan{}
	built[md.FullName()] = p
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") || md.ExtensionRanges().Len() > 0 ||
		md.RequiredNumbers().Len() > 0 || md.IsMapEntry() {
		return p
	}
	fields := md.Fields()
	p.fields = make([]jsonField, fields.Len())
	maxLow := protowire.Number(0)
	for i := range fields.Len() {
		fd := fields.Get(i)
		f, ok := buildField(fd, built)
		f.unsupported = !ok // declined when given
		p.fields[i] = f
		if n := fd.Number(); n < 1024 {
			maxLow = max(maxLow, n)
		}
	}
	p.byNumber = make([]int32, maxLow+1)
	p.byJSON = make(map[string]int32, fields.Len())
	for i := range fields.Len() {
		p.byJSON[fields.Get(i).JSONName()] = int32(i)
		n := fields.Get(i).Number()
		if n <= maxLow {
			p.byNumber[n] = int32(i) + 1
			continue
		}
		if p.high == nil {
			p.high = map[protowire.Number]int32{}
		}
		p.high[n] = int32(i)
	}
	p.ok = true
	return p
}

func buildField(fd protoreflect.FieldDescriptor, built map[protoreflect.FullName]*jsonPlan) (jsonField, bool) {
	f := jsonField{kind: fd.Kind(), list: fd.IsList(), isMap: fd.IsMap(), presence: fd.HasPresence(), num: fd.Number()}
	name, err := appendJSONString(nil, fd.JSONName())
	if err != nil {
		return f, false
	}
	f.name = append(name, ':')
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		if od.Index() >= 64 {
			return f, false
		}
		f.oneof = int32(od.Index()) + 1
	}
	switch f.kind {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
		protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		f.wire = protowire.VarintType
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind, protoreflect.FloatKind:
		f.wire = protowire.Fixed32Type
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind, protoreflect.DoubleKind:
		f.wire = protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		f.wire = protowire.BytesType
	default: // groups
		return f, false
	}
	f.packable = f.list && f.wire != protowire.BytesType
	switch {
	case f.isMap:
		key, ok := buildField(fd.MapKey(), built)
		if !ok {
			return f, false
		}
		val, ok := buildField(fd.MapValue(), built)
		if !ok {
			return f, false
		}
		if val.kind == protoreflect.EnumKind {
			val.def = uint64(int64(fd.MapValue().Default().Enum()))
		}
		f.key, f.val = &key, &val
	case f.kind == protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.IsClosed() || ed.FullName() == "google.protobuf.NullValue" {
			return f, false
		}
		f.enum = &enumNames{}
		values := ed.Values()
		f.byName = make(map[string]int32, values.Len())
		for i := range values.Len() {
			f.byName[string(values.Get(i).Name())] = int32(values.Get(i).Number())
		}
		for i := range values.Len() {
			n := int32(values.Get(i).Number())
			if f.enum.name(n) != nil {
				continue
			}
			quoted, err := appendJSONString(nil, string(values.ByNumber(protoreflect.EnumNumber(n)).Name()))
			if err != nil {
				return f, false
			}
			if n >= 0 && n < 256 {
				for int(n) >= len(f.enum.low) {
					f.enum.low = append(f.enum.low, nil)
				}
				f.enum.low[n] = quoted
				continue
			}
			if f.enum.high == nil {
				f.enum.high = map[int32][]byte{}
			}
			f.enum.high[n] = quoted
		}
	case f.kind == protoreflect.MessageKind:
		f.msg = buildPlan(fd.Message(), built)
	}
	return f, true
}

// occurrence is one value of a field on the wire: v for varint and fixed
// wire types; for length-delimited ones, the value is msg[off:off+v] of
// the message being written (offsets, so that the pooled scratch space
// holds no reference to an answer).
type occurrence struct {
	v     uint64
	field int32
	off   uint32
	wire  protowire.Type
}

// bytesOf is a length-delimited occurrence's value.
func bytesOf(msg []byte, o occurrence) []byte {
	return msg[o.off : uint64(o.off)+o.v]
}

// mapEntry is one entry of a map field, decoded; offsets are in the
// message holding the map.
type mapEntry struct {
	ki  int64  // signed integer keys, and bools
	ku  uint64 // unsigned integer keys
	ks  uint32 // string keys: msg[ks:ks+kn]
	kn  uint32
	val occurrence
}

// wireEncoder holds the scratch space of one appendWireJSON: the fields
// of the messages being written and the entries of the maps, as stacks.
type wireEncoder struct {
	occ     []occurrence
	entries []mapEntry
	keys    []uint64 // scratch of fields: sorting the occurrences
}

var wireEncoders = sync.Pool{New: func() any { return new(wireEncoder) }}

// appendWireJSON appends the canonical protojson of the message of type
// md in wire bytes to buf, and reports whether it could: when ok is
// false, buf is returned as it was given and the caller must decode the
// message and use protojson (the slow path reports malformed bytes).
func (d *Descriptors) appendWireJSON(buf []byte, md protoreflect.MessageDescriptor, wire []byte) (out []byte, ok bool) {
	p := d.wirePlan(md)
	if !p.ok || uint64(len(wire)) > math.MaxUint32 {
		return buf, false
	}
	e := wireEncoders.Get().(*wireEncoder)
	out, ok = e.message(buf, p, wire, 0)
	if cap(e.occ) <= 4096 && cap(e.entries) <= 4096 { // a huge answer's scratch is not kept
		e.occ, e.entries, e.keys = e.occ[:0], e.entries[:0], e.keys[:0]
		wireEncoders.Put(e)
	}
	if !ok {
		return buf, false
	}
	return out, true
}

// message writes one message's JSON object.
func (e *wireEncoder) message(out []byte, p *jsonPlan, msg []byte, depth int) ([]byte, bool) {
	if !p.ok || depth > maxWireJSONDepth {
		return out, false
	}
	base := len(e.occ)
	out, ok := e.fields(out, p, msg, depth)
	e.occ = e.occ[:base]
	return out, ok
}

// consume reads one value of wire type wtyp at msg[pos:]: the occurrence
// (v, and off for length-delimited values) and the length read, negative
// when malformed or a group.
func consume(msg []byte, pos int, wtyp protowire.Type) (o occurrence, n int) {
	o.wire = wtyp
	b := msg[pos:]
	switch wtyp {
	case protowire.VarintType:
		o.v, n = protowire.ConsumeVarint(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		o.v = uint64(v)
	case protowire.Fixed64Type:
		o.v, n = protowire.ConsumeFixed64(b)
	case protowire.BytesType:
		var v []byte
		v, n = protowire.ConsumeBytes(b)
		o.v, o.off = uint64(len(v)), uint32(pos+n-len(v))
	default: // groups
		return o, -1
	}
	return o, n
}

// fields reads a message's fields onto e.occ, then writes them in
// declaration order.
func (e *wireEncoder) fields(out []byte, p *jsonPlan, msg []byte, depth int) ([]byte, bool) {
	base := len(e.occ)
	sorted := true
	last := int32(-1)
	for pos := 0; pos < len(msg); {
		num, wtyp, n := protowire.ConsumeTag(msg[pos:])
		if n < 0 || num > protowire.MaxValidNumber {
			return out, false
		}
		pos += n
		o, n := consume(msg, pos, wtyp)
		if n < 0 {
			return out, false
		}
		pos += n
		o.field = p.index(num)
		if o.field < 0 {
			continue // unknown: protojson does not write it
		}
		f := &p.fields[o.field]
		if f.unsupported || wtyp != f.wire && !(f.packable && wtyp == protowire.BytesType) {
			return out, false // an unknown field for proto: rare, left to it
		}
		if o.field < last {
			sorted = false
		}
		last = o.field
		if len(e.occ) >= maxWireJSONFields {
			return out, false // bounded scratch: a huge message is protojson's, as before
		}
		e.occ = append(e.occ, o)
	}
	top := len(e.occ)
	if !sorted {
		// Servers write fields in any order (a Go map's, for dynamic
		// messages): the occurrences are copied after top in field
		// order, a repeated field's values keeping theirs.
		keys := e.keys[:0]
		for k := base; k < top; k++ {
			keys = append(keys, uint64(e.occ[k].field)<<32|uint64(k-base))
		}
		slices.Sort(keys)
		for _, key := range keys {
			e.occ = append(e.occ, e.occ[base+int(uint32(key))])
		}
		e.keys = keys
		base, top = top, len(e.occ)
	}
	out = append(out, '{')
	mark := len(out)
	var oneofs uint64
	for i := base; i < top; {
		f := &p.fields[e.occ[i].field]
		j := i + 1
		for j < top && e.occ[j].field == e.occ[i].field {
			j++
		}
		if f.oneof > 0 {
			bit := uint64(1) << (f.oneof - 1)
			if oneofs&bit != 0 {
				return out, false // the last member given wins: left to proto
			}
			oneofs |= bit
		}
		comma := len(out) > mark
		var ok bool
		switch {
		case f.isMap:
			out, ok = e.mapField(out, f, msg, i, j, comma, depth)
		case f.list:
			out, ok = e.listField(out, f, msg, i, j, comma, depth)
		default:
			if j > i+1 {
				return out, false // given twice: replaced or merged by proto
			}
			o := e.occ[i]
			if !f.presence && isZero(f, o) {
				ok = true
				break
			}
			if comma {
				out = append(out, ',')
			}
			out = append(out, f.name...)
			out, ok = e.value(out, f, msg, o, depth)
		}
		if !ok {
			return out, false
		}
		i = j
	}
	return append(out, '}'), true
}

// isZero reports a value that proto3 leaves out (implicit presence): the
// value proto keeps, after it truncated a varint to 32 bits.
func isZero(f *jsonField, o occurrence) bool {
	switch f.kind {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return o.v == 0 // the length
	case protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind,
		protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind, protoreflect.FloatKind:
		return uint32(o.v) == 0 // float: +0 only (-0 is written)
	case protoreflect.MessageKind:
		return false
	}
	return o.v == 0
}

// listField writes the values of a repeated field, e.occ[i:j].
func (e *wireEncoder) listField(out []byte, f *jsonField, msg []byte, i, j int, comma bool, depth int) ([]byte, bool) {
	start := len(out)
	if comma {
		out = append(out, ',')
	}
	out = append(out, f.name...)
	out = append(out, '[')
	open := len(out)
	for k := i; k < j; k++ {
		o := e.occ[k]
		if o.wire != protowire.BytesType || !f.packable {
			if len(out) > open {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = e.value(out, f, msg, o, depth); !ok {
				return out, false
			}
			continue
		}
		packed := bytesOf(msg, o)
		for pos := 0; pos < len(packed); {
			v, n := consume(packed, pos, f.wire)
			if n < 0 {
				return out, false
			}
			pos += n
			if len(out) > open {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = e.value(out, f, nil, v, depth); !ok {
				return out, false
			}
		}
	}
	if len(out) == open {
		return out[:start], true // empty packed values only: no element
	}
	return append(out, ']'), true
}

// mapField writes the entries of a map field, e.occ[i:j], sorted by key
// as protojson sorts them.
func (e *wireEncoder) mapField(out []byte, f *jsonField, msg []byte, i, j int, comma bool, depth int) ([]byte, bool) {
	base := len(e.entries)
	defer func() { e.entries = e.entries[:base] }()
	for k := i; k < j; k++ {
		entry := mapEntry{val: occurrence{wire: f.val.wire, v: f.val.def}}
		haveKey, haveVal := false, false
		o := e.occ[k]
		for pos, end := int(o.off), int(o.off)+int(o.v); pos < end; {
			num, wtyp, n := protowire.ConsumeTag(msg[pos:end])
			if n < 0 {
				return out, false
			}
			pos += n
			var sub *jsonField
			switch {
			case num == 1 && !haveKey:
				sub, haveKey = f.key, true
			case num == 2 && !haveVal:
				sub, haveVal = f.val, true
			default:
				return out, false // unknown or repeated in the entry: left to proto
			}
			if wtyp != sub.wire {
				return out, false
			}
			v, n := consume(msg[:end], pos, wtyp)
			if n < 0 {
				return out, false
			}
			pos += n
			if sub == f.val {
				entry.val = v
				continue
			}
			switch sub.kind {
			case protoreflect.StringKind:
				if !utf8.Valid(bytesOf(msg, v)) {
					return out, false
				}
				entry.ks, entry.kn = v.off, uint32(v.v)
			case protoreflect.BoolKind:
				entry.ki = int64(protowire.EncodeBool(v.v != 0))
			case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
				entry.ki = int64(int32(v.v))
			case protoreflect.Sint32Kind:
				entry.ki = int64(int32(protowire.DecodeZigZag(v.v & math.MaxUint32)))
			case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
				entry.ki = int64(v.v)
			case protoreflect.Sint64Kind:
				entry.ki = protowire.DecodeZigZag(v.v)
			case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
				entry.ku = uint64(uint32(v.v))
			case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
				entry.ku = v.v
			default:
				return out, false
			}
		}
		e.entries = append(e.entries, entry)
	}
	kind := f.key.kind
	compare := func(a, b mapEntry) int { return compareKeys(kind, msg, a, b) }
	entries := e.entries[base:]
	slices.SortFunc(entries, compare)
	for k := 1; k < len(entries); k++ {
		if compare(entries[k-1], entries[k]) == 0 {
			return out, false // a key given twice: the last wins in proto
		}
	}
	if comma {
		out = append(out, ',')
	}
	out = append(out, f.name...)
	out = append(out, '{')
	for k := range len(e.entries) - base {
		entry := e.entries[base+k] // e.entries may grow (nested maps)
		if k > 0 {
			out = append(out, ',')
		}
		switch kind {
		case protoreflect.StringKind:
			var err error
			if out, err = appendJSONString(out, string(msg[entry.ks:entry.ks+entry.kn])); err != nil {
				return out, false
			}
		case protoreflect.BoolKind:
			if entry.ki != 0 {
				out = append(out, `"true"`...)
			} else {
				out = append(out, `"false"`...)
			}
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			out = append(out, '"')
			out = strconv.AppendUint(out, entry.ku, 10)
			out = append(out, '"')
		default:
			out = append(out, '"')
			out = strconv.AppendInt(out, entry.ki, 10)
			out = append(out, '"')
		}
		out = append(out, ':')
		var ok bool
		if out, ok = e.value(out, f.val, msg, entry.val, depth); !ok {
			return out, false
		}
	}
	return append(out, '}'), true
}

// compareKeys orders map entries as protojson does (order.GenericKeyOrder):
// false before true, numbers ascending, strings by bytes.
func compareKeys(kind protoreflect.Kind, msg []byte, a, b mapEntry) int {
	switch kind {
	case protoreflect.StringKind:
		return bytes.Compare(msg[a.ks:a.ks+a.kn], msg[b.ks:b.ks+b.kn])
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return cmp.Compare(a.ku, b.ku)
	}
	return cmp.Compare(a.ki, b.ki)
}

// value writes one value of field f (a list's element, a map's value);
// a length-delimited value is read from msg.
func (e *wireEncoder) value(out []byte, f *jsonField, msg []byte, o occurrence, depth int) ([]byte, bool) {
	v := o.v
	switch f.kind {
	case protoreflect.BoolKind:
		if v != 0 {
			return append(out, "true"...), true
		}
		return append(out, "false"...), true
	case protoreflect.EnumKind:
		if name := f.enum.name(int32(v)); name != nil {
			return append(out, name...), true
		}
		return strconv.AppendInt(out, int64(int32(v)), 10), true
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(out, int64(int32(v)), 10), true
	case protoreflect.Sint32Kind:
		return strconv.AppendInt(out, int64(int32(protowire.DecodeZigZag(v&math.MaxUint32))), 10), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(out, uint64(uint32(v)), 10), true
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		out = strconv.AppendInt(append(out, '"'), int64(v), 10)
		return append(out, '"'), true
	case protoreflect.Sint64Kind:
		out = strconv.AppendInt(append(out, '"'), protowire.DecodeZigZag(v), 10)
		return append(out, '"'), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		out = strconv.AppendUint(append(out, '"'), v, 10)
		return append(out, '"'), true
	case protoreflect.FloatKind:
		return appendJSONFloat(out, float64(math.Float32frombits(uint32(v))), 32), true
	case protoreflect.DoubleKind:
		return appendJSONFloat(out, math.Float64frombits(v), 64), true
	case protoreflect.StringKind:
		out, err := appendJSONString(out, string(bytesOf(msg, o)))
		return out, err == nil
	case protoreflect.BytesKind:
		out = base64.StdEncoding.AppendEncode(append(out, '"'), bytesOf(msg, o))
		return append(out, '"'), true
	case protoreflect.MessageKind:
		return e.message(out, f.msg, bytesOf(msg, o), depth+1)
	}
	return out, false
}

// appendJSONString is protojson's string encoding
// (google.golang.org/protobuf/internal/encoding/json, appendString): only
// '"', '\\' and control characters are escaped; invalid UTF-8 is an error.
func appendJSONString(out []byte, in string) ([]byte, error) {
	out = append(out, '"')
	i := indexNeedEscape(in)
	in, out = in[i:], append(out, in[:i]...)
	for len(in) > 0 {
		switch r, n := utf8.DecodeRuneInString(in); {
		case r == utf8.RuneError && n == 1:
			return out, errInvalidUTF8
		case r < ' ' || r == '"' || r == '\\':
			out = append(out, '\\')
			switch r {
			case '"', '\\':
				out = append(out, byte(r))
			case '\b':
				out = append(out, 'b')
			case '\f':
				out = append(out, 'f')
			case '\n':
				out = append(out, 'n')
			case '\r':
				out = append(out, 'r')
			case '\t':
				out = append(out, 't')
			default:
				out = append(out, 'u')
				out = append(out, "0000"[1+(bits.Len32(uint32(r))-1)/4:]...)
				out = strconv.AppendUint(out, uint64(r), 16)
			}
			in = in[n:]
		default:
			i := indexNeedEscape(in[n:])
			in, out = in[n+i:], append(out, in[:n+i]...)
		}
	}
	return append(out, '"'), nil
}

type invalidUTF8 struct{}

func (invalidUTF8) Error() string { return "invalid UTF-8" }

var errInvalidUTF8 error = invalidUTF8{}

func indexNeedEscape(s string) int {
	for i, r := range s {
		if r < ' ' || r == '\\' || r == '"' || r == utf8.RuneError {
			return i
		}
	}
	return len(s)
}

// appendJSONFloat is protojson's number encoding (appendFloat): NaN and
// the infinities as strings, else encoding/json's choice of 'f' or 'e'.
func appendJSONFloat(out []byte, n float64, bitSize int) []byte {
	switch {
	case math.IsNaN(n):
		return append(out, `"NaN"`...)
	case math.IsInf(n, +1):
		return append(out, `"Infinity"`...)
	case math.IsInf(n, -1):
		return append(out, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	out = strconv.AppendFloat(out, n, format, -1, bitSize)
	if format == 'e' {
		n := len(out)
		if n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
	}
	return out
}
