// Package synth expands synthetic traffic, declared in a spec as request
// templates with parameter sets, into a stream of exchanges.
//
// Generation is deterministic: the same declaration and seed give the same
// requests in the same order on every run and every machine, so a CI run
// that uses synthetic traffic is reproducible. Nothing is held in memory
// beyond the declaration: requests are built one at a time.
//
// The package does not parse CUE (framework/spec decodes the declaration
// into framework.Synthetic) and does not send anything.
package synth

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// Reader yields the exchanges of one synthetic declaration. It has the
// method set of traffic.Reader.
type Reader struct {
	syn    *framework.Synthetic
	name   string
	rng    *rand.Rand
	n      int // requests yielded so far
	total  int // requests to yield
	tmpl   int // Count == 0: the template being enumerated
	combo  uint64
	combos []uint64 // combinations per template
}

// New returns a reader over the requests syn declares; name starts every
// Exchange.Origin ("specs/shop.cue:12:3: synthetic request 5").
//
// Without syn.Count, every combination of every template is generated
// once, templates in order, combinations in order (the first parameter
// varies slowest). With syn.Count, that many requests are drawn: a
// template uniformly, then one of its combinations uniformly, by a PCG
// generator seeded with syn.Seed.
func New(syn *framework.Synthetic, name string) *Reader {
	r := &Reader{syn: syn, name: name, rng: rand.New(rand.NewPCG(syn.Seed, 0x5eed5eed))}
	for _, t := range syn.Requests {
		r.combos = append(r.combos, Combinations(t))
	}
	if syn.Count > 0 {
		r.total = syn.Count
	} else {
		var sum uint64
		for _, c := range r.combos {
			sum += c
		}
		r.total = int(min(sum, math.MaxInt32))
	}
	return r
}

// Combinations is the number of requests one template describes: the
// product of its parameters' lengths, or their common length when they are
// zipped (1 without parameters). A product too large for a uint64 is
// reported as math.MaxUint64.
func Combinations(t framework.SyntheticRequest) uint64 {
	if len(t.Params) == 0 {
		return 1
	}
	if t.Zip {
		n := uint64(t.Params[0].Len())
		for _, p := range t.Params[1:] {
			n = min(n, uint64(p.Len()))
		}
		return n
	}
	n := uint64(1)
	for _, p := range t.Params {
		hi, lo := bits.Mul64(n, uint64(p.Len()))
		if hi != 0 {
			return math.MaxUint64
		}
		n = lo
	}
	return n
}

// Next returns the next request, or io.EOF after the last one.
func (r *Reader) Next() (framework.Exchange, error) {
	if r.n >= r.total {
		return framework.Exchange{}, io.EOF
	}
	var tmpl int
	var combo uint64
	if r.syn.Count > 0 {
		tmpl = r.rng.IntN(len(r.syn.Requests))
		if r.combos[tmpl] == 0 {
			return framework.Exchange{}, fmt.Errorf("%s: template %d has no parameter values", r.name, tmpl+1)
		}
		combo = r.rng.Uint64N(r.combos[tmpl])
	} else {
		for r.combo >= r.combos[r.tmpl] {
			r.tmpl++
			r.combo = 0
		}
		tmpl, combo = r.tmpl, r.combo
		r.combo++
	}
	r.n++
	ex := Build(r.syn.Requests[tmpl], combo)
	ex.Origin = fmt.Sprintf("%s: synthetic request %d", r.name, r.n)
	return ex, nil
}

// Close does nothing; it completes the traffic.Reader method set.
func (r *Reader) Close() error { return nil }

// Build returns the request of template t for combination number combo
// (0 <= combo < Combinations(t)).
func Build(t framework.SyntheticRequest, combo uint64) framework.Exchange {
	values := make(map[string]value, len(t.Params))
	if t.Zip {
		for _, p := range t.Params {
			values[p.Name] = param(p).at(combo)
		}
	} else {
		for i := len(t.Params) - 1; i >= 0; i-- { // the last parameter varies fastest
			p := t.Params[i]
			n := uint64(p.Len())
			values[p.Name] = param(p).at(combo % n)
			combo /= n
		}
	}
	if t.RPC != "" {
		return framework.Exchange{Request: buildRPC(t, values)}
	}
	req := framework.Request{Method: t.Method, URL: expand(t.URL, values, url.PathEscape)}
	for name, v := range t.Headers {
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set(name, expand(v, values, func(s string) string { return s }))
	}
	if t.Body != nil {
		req.Body = expandJSON(t.Body, values)
		if req.Header.Get("Content-Type") == "" {
			if req.Header == nil {
				req.Header = http.Header{}
			}
			req.Header.Set("Content-Type", "application/json")
		}
	}
	return framework.Exchange{Request: req}
}

// buildRPC returns the gRPC call of template t: the same request a JSONL
// rpc record with one message decodes to (framework.RPCCall), its body the
// message's JSON until the runner makes it canonical with the descriptors.
func buildRPC(t framework.SyntheticRequest, values map[string]value) framework.Request {
	body := []byte("{}")
	if t.Body != nil {
		body = expandJSON(t.Body, values)
	}
	var header http.Header
	for name, v := range t.Headers {
		if header == nil {
			header = http.Header{}
		}
		header.Set(name, expand(v, values, func(s string) string { return s }))
	}
	return framework.Request{Method: http.MethodPost, URL: "/" + t.RPC, Header: header, Body: body,
		RPC: &framework.RPCCall{Method: t.RPC, Messages: [][]byte{body}}}
}

type value struct {
	text    string
	integer bool
}

type param framework.SyntheticParam

func (p param) at(i uint64) value {
	if p.Values != nil {
		return value{text: p.Values[i]}
	}
	return value{text: strconv.FormatInt(p.From+int64(i)*p.Step, 10), integer: true}
}

// expand replaces every {name} of a known parameter in s.
func expand(s string, values map[string]value, escape func(string) string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := open + 1
		for end < len(s) && isNameByte(s[end]) {
			end++
		}
		v, ok := values[s[open+1:end]]
		if end == len(s) || s[end] != '}' || !ok {
			b.WriteString(s[:open+1])
			s = s[open+1:]
			continue
		}
		b.WriteString(s[:open])
		b.WriteString(escape(v.text))
		s = s[end+1:]
	}
	b.WriteString(s)
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// expandJSON replaces placeholders inside the JSON body's strings; a string
// that is exactly "{name}" of an integer range becomes a number.
func expandJSON(body []byte, values map[string]value) []byte {
	text := string(body)
	for name, v := range values {
		if v.integer {
			text = strings.ReplaceAll(text, `"{`+name+`}"`, v.text)
		}
	}
	return []byte(expand(text, values, func(s string) string {
		quoted, _ := json.Marshal(s)
		return string(quoted[1 : len(quoted)-1])
	}))
}
