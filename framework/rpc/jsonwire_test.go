package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkJSONWire encodes data (protojson) with appendJSONWire and, when it
// does not decline, requires that protojson reads data too, as the message
// the wire bytes decode to, with the same canonical JSON.
func checkJSONWire(t testing.TB, d *Descriptors, md protoreflect.MessageDescriptor, data []byte) bool {
	t.Helper()
	out, ok := d.appendJSONWire([]byte("x"), md, data)
	if out[0] != 'x' || !ok && len(out) != 1 {
		t.Fatalf("%s %s: the buffer became %q", md.FullName(), data, out)
	}
	if !ok {
		return false
	}
	want, err := d.FromJSON(md, data)
	if err != nil {
		t.Fatalf("%s %s: encoded, but protojson refuses it: %v", md.FullName(), data, err)
	}
	got, err := d.FromWire(md, out[1:])
	if err != nil {
		t.Fatalf("%s %s: the wire bytes %x do not decode: %v", md.FullName(), data, out[1:], err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("%s %s: the wire bytes decode to %v, protojson reads %v", md.FullName(), data, got, want)
	}
	a, err1 := d.Canonical(got)
	b, err2 := d.Canonical(want)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Fatalf("%s %s: canonical %s vs %s (%v, %v)", md.FullName(), data, a, b, err1, err2)
	}
	return true
}

// TestJSONWireCases encodes protojson a recorder writes, and declines
// what it leaves to protojson.
func TestJSONWireCases(t *testing.T) {
	for _, c := range []struct {
		msg, in string
		ok      bool
	}{
		{"Scalars", `{}`, true},
		{"Scalars", `{"fDouble":-0,"fFloat":1.5,"fInt32":-1,"fInt64":"-9223372036854775808","fUint32":4294967295,"fUint64":"18446744073709551615","fSint32":-2147483648,"fSint64":"-3","fFixed32":7,"fFixed64":"8","fSfixed32":-9,"fSfixed64":"-10","fBool":true,"fString":"é\n\"😀","fEnum":"BLUE","fAlias":"SECOND"}`, true},
		{"Scalars", `{"fInt32":0,"fString":"","fBool":false,"fDouble":0,"fEnum":"COLOR_UNSPECIFIED","fInt64":"0"}`, true},
		{"Scalars", `{"fInt64":12,"fUint64":0,"fEnum":7,"fEnum":8}`, false}, // a name given twice
		{"Scalars", `{"fInt64":12,"fUint64":0,"fEnum":-7}`, true},
		{"Scalars", ` { "fInt32" : 5 , "fString":"\u0041" } `, true},
		{"Scalars", `{"renamed\"odd":"x"}`, false},
		{"Scalars", `{"f_int32":1}`, false},         // proto name
		{"Scalars", `{"fInt32":"1"}`, false},        // a 32-bit integer as a string
		{"Scalars", `{"fInt32":1.0}`, false},        // fraction
		{"Scalars", `{"fInt32":1e2}`, false},        // exponent
		{"Scalars", `{"fInt32":2147483648}`, false}, // out of range
		{"Scalars", `{"fUint32":-1}`, false},        // negative
		{"Scalars", `{"fInt64":"01"}`, false},       // leading zero
		{"Scalars", `{"fFloat":3.5e38}`, false},     // out of float32's range
		{"Scalars", `{"fDouble":"NaN"}`, false},     // special
		{"Scalars", `{"fBytes":"AAE="}`, false},     // bytes: base64 variants are protojson's
		{"Scalars", `{"fEnum":"NOPE"}`, false},      // unknown name
		{"Scalars", `{"fString":null}`, false},      // null
		{"Scalars", `{"nope":1}`, false},            // unknown field
		{"Scalars", `{"fString":"a"} x`, false},     // trailing data
		{"Scalars", `{"fString":"\ud800"}`, false},  // a lone surrogate
		{"Optionals", `{"oInt32":0,"oString":"","oBool":false,"oDouble":-0,"oEnum":"COLOR_UNSPECIFIED","oMessage":{}}`, true},
		{"Repeated", `{"rInt32":[0,-1,2],"rString":["","a"],"rDouble":[0,-0,1.5],"rEnum":["RED",9,"COLOR_UNSPECIFIED"],"rMessage":[{},{"fInt32":1}],"unpacked":[0,3],"rBool":[false]}`, true},
		{"Repeated", `{"rInt32":[]}`, true},
		{"Repeated", `{"rInt32":[1,null]}`, false},
		{"Maps", `{"stringString":{"a":"b"}}`, false},
		{"Choice", `{"pInt32":0,"after":1}`, true},
		{"Choice", `{"pInt32":0,"pString":""}`, false},
		{"Choice", `{"pMessage":{"fEnum":"RED"},"oBool":false}`, true},
		{"Tree", `{"name":"r","children":[{"name":"a","children":[{}]}],"scalars":{"fInt32":3},"choice":{"pString":"s"},"parent":{"parent":{}}}`, true},
		{"Known", `{"id":"k"}`, true},
		{"Known", `{"at":"2026-11-30T10:00:00Z"}`, false},
	} {
		typ := messageType(t, "wirejson.v1."+c.msg)
		if got := checkJSONWire(t, typ.d, typ.md, []byte(c.in)); got != c.ok {
			t.Errorf("%s %s: encoded %v, want %v", c.msg, c.in, got, c.ok)
		}
	}
}

// TestJSONWireReadsRecordedRequests: every request of the demo's
// recording is encoded without protojson.
func TestJSONWireReadsRecordedRequests(t *testing.T) {
	f, err := os.Open("../../fixtures/traffic/grpcdemo.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sets, err := wireJSONTypes()
	if err != nil {
		t.Fatal(err)
	}
	shop := sets[1]
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	n := 0
	for scanner.Scan() {
		var line struct {
			RPC struct {
				Method   string            `json:"method"`
				Messages []json.RawMessage `json:"messages"`
			} `json:"rpc"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		md, err := shop.Method(line.RPC.Method)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range line.RPC.Messages {
			if !checkJSONWire(t, shop, md.Input(), m) {
				t.Fatalf("%s %s: declined", line.RPC.Method, m)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d requests", n)
	}
}

// FuzzJSONWire gives arbitrary text as a message of each test type:
// appendJSONWire declines it or encodes what protojson reads.
func FuzzJSONWire(f *testing.F) {
	types := wireJSONMessages(f)
	r := rand.New(rand.NewPCG(3, 4))
	for i, typ := range types {
		for _, text := range jsonVariants(r, typ.md) {
			f.Add(uint16(i), text)
		}
	}
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		typ := types[int(which)%len(types)]
		checkJSONWire(t, typ.d, typ.md, data)
	})
}

// TestJSONWireRandom writes random messages of every test type as
// protojson (JSON names or proto names, defaults emitted or not, spaced
// or not) and changes a byte of some: each is declined or encoded as
// protojson reads it.
func TestJSONWireRandom(t *testing.T) {
	types := wireJSONMessages(t)
	r := rand.New(rand.NewPCG(8, 9))
	encoded := 0
	for range 100 {
		for _, typ := range types {
			for _, text := range jsonVariants(r, typ.md) {
				if checkJSONWire(t, typ.d, typ.md, text) {
					encoded++
				}
			}
		}
	}
	if encoded < 500 {
		t.Errorf("only %d messages encoded", encoded)
	}
	t.Logf("%d encoded", encoded)
}

func jsonVariants(r *rand.Rand, md protoreflect.MessageDescriptor) [][]byte {
	var out [][]byte
	for range 3 {
		m := randomMessage(r, md, 0)
		opts := protojson.MarshalOptions{AllowPartial: true, UseProtoNames: r.IntN(4) == 0, EmitUnpopulated: r.IntN(4) == 0, UseEnumNumbers: r.IntN(4) == 0}
		if r.IntN(3) == 0 {
			opts.Indent = "  "
		}
		b, err := opts.Marshal(m)
		if err != nil {
			continue // a random value protojson cannot write
		}
		out = append(out, b)
		if len(b) > 0 && r.IntN(2) == 0 {
			changed := bytes.Clone(b)
			const swaps = "0-1e.\"{}[],:nt \\"
			changed[r.IntN(len(changed))] = swaps[r.IntN(len(swaps))]
			out = append(out, changed)
		}
	}
	if len(out) == 0 {
		out = append(out, []byte(strings.Repeat("{", 1+r.IntN(3))))
	}
	return out
}
