package scrub

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"html"
	"net/textproto"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/btree"
)

// Mask replaces every secret.
const Mask = "[REDACTED]"

// MinLen is the shortest secret scrubbed by value: shorter values (and
// shorter encoded forms) would mangle ordinary output ("1", "true"). They
// are still masked by name where they stand.
const MinLen = 6

// MaxLen is the longest value registered; a longer value is registered by
// its first MaxLen bytes, so that a long token is still cut where it
// starts.
const MaxLen = 4096

// MaxValues bounds the number of distinct values a Scrubber holds, so that
// a recording with a fresh session cookie per request cannot grow memory
// without bound. Values beyond it are counted in Dropped and are still
// masked by name where they stand.
const MaxValues = 20000

// SentRoom is the part of MaxValues that only AddSent may fill: the values
// learned from what is sent (a user's token, cookie or password in a
// request). Add, for everything else (answers' cookies and tokens, secret
// fields of a body a target wrote), stops at MaxValues - SentRoom, so that
// a shadow setting a fresh cookie in every answer, or inventing secret
// fields, cannot leave a later user's token unscrubbed where the shadow
// echoes it.
const SentRoom = MaxValues / 4

// RequestValues bounds the new values one request may teach (a Batch):
// one bulk upload (a CSV or JSON array of 20,000 users with a password
// column) would otherwise fill the room AddSent has, and every later
// request's token would be masked by name only where it stands, not where
// a target echoes it. A request's headers are learned before its URL and
// body, so its credentials come first. Capped counts the requests that
// had more.
const RequestValues = 256

// Scrubber replaces known secret values and their encoded forms. The zero
// value is not usable; a nil *Scrubber scrubs nothing. Safe for concurrent
// use; values may be added while writers use it.
type Scrubber struct {
	mu      sync.RWMutex
	values  map[string]bool
	forms   map[string]bool
	lengths map[uint32][]int      // first 4 bytes -> lengths of the forms, longest first
	sorted  *btree.BTreeG[string] // every form, for prefix look-ups
	heads   map[string]bool       // the first 1-3 bytes of every form
	pairs   [1 << 16 / 64]uint64
	longest int
	dropped int
	capped  int // batches that left values out
}

// New returns an empty Scrubber.
func New() *Scrubber {
	return &Scrubber{values: map[string]bool{}, forms: map[string]bool{}, lengths: map[uint32][]int{},
		sorted: btree.NewOrderedG[string](32), heads: map[string]bool{}}
}

// Add registers secret values, up to MaxValues - SentRoom held. Values
// shorter than MinLen are ignored.
func (s *Scrubber) Add(values ...string) { s.add(MaxValues-SentRoom, nil, values) }

// AddSent registers secret values learned from what is sent (requests),
// up to MaxValues held: SentRoom of them are kept for such values.
func (s *Scrubber) AddSent(values ...string) { s.add(MaxValues, nil, values) }

// Batch registers the secret values one request teaches: AddSent, at most
// RequestValues new values. Build one per request with Scrubber.Batch.
// Safe for concurrent use.
type Batch struct {
	s      *Scrubber
	left   int
	capped bool
}

// Batch returns a Batch for one request's values; a nil *Scrubber gives a
// Batch that registers nothing.
func (s *Scrubber) Batch() *Batch { return &Batch{s: s, left: RequestValues} }

// Add registers values as AddSent does, while the batch has registered
// fewer than RequestValues; values already known cost nothing.
func (b *Batch) Add(values ...string) { b.s.add(MaxValues, b, values) }

// Capped returns how many batches left values out, RequestValues
// registered.
func (s *Scrubber) Capped() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.capped
}

// add registers values while fewer than limit are held and batch, when
// set, has room.
func (s *Scrubber) add(limit int, batch *Batch, values []string) {
	if s == nil {
		return
	}
	for _, v := range values {
		if len(v) > MaxLen {
			v = v[:MaxLen]
		}
		if len(v) < MinLen {
			continue
		}
		s.mu.RLock()
		known := s.values[v]
		s.mu.RUnlock()
		if known {
			continue
		}
		s.mu.Lock()
		if !s.values[v] {
			switch {
			case batch != nil && batch.left == 0:
				if !batch.capped {
					batch.capped = true
					s.capped++
				}
			case len(s.values) >= limit:
				s.dropped++
			default:
				s.values[v] = true
				for _, f := range Forms(v) {
					s.addForm(f)
				}
				if batch != nil {
					batch.left--
				}
			}
		}
		s.mu.Unlock()
	}
}

// Len returns the number of values registered.
func (s *Scrubber) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.values)
}

// Dropped returns how many values were not registered because the room
// they could take (MaxValues, or MaxValues - SentRoom for Add) was full.
func (s *Scrubber) Dropped() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dropped
}

func (s *Scrubber) addForm(f string) {
	if len(f) < MinLen || s.forms[f] {
		return
	}
	s.forms[f] = true
	s.sorted.ReplaceOrInsert(f)
	// Many values may share their start (every JWT starts with the same
	// header): the index keeps their distinct lengths only, so that a
	// look-up costs a few map probes, not a walk over every value.
	k := binary.LittleEndian.Uint32([]byte(f[:4]))
	if ls := s.lengths[k]; !slices.Contains(ls, len(f)) {
		ls = append(ls, len(f))
		sort.Sort(sort.Reverse(sort.IntSlice(ls)))
		s.lengths[k] = ls
	}
	for n := 1; n < 4; n++ {
		s.heads[f[:n]] = true
	}
	p := uint16(f[0])<<8 | uint16(f[1])
	s.pairs[p/64] |= 1 << (p % 64)
	s.longest = max(s.longest, len(f))
}

// Forms returns the forms of a secret value that are scrubbed: the value,
// its URL-encoded (query and path, upper- and lower-case hex),
// JSON-escaped and HTML-escaped forms,
// and its standard and URL-safe base64 forms at each of the three byte
// alignments it may have inside a longer base64 text (Basic credentials,
// a base64 body), without the characters that depend on its neighbours.
// Outputs nest escapes (a JSON body kept as a JSON string in the log,
// shown by html/template in the report), so each of these forms is also
// given once and twice escaped for JSON, HTML and html/template.
func Forms(v string) []string {
	base := baseForms(v)
	seen := map[string]bool{}
	var forms []string
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	for _, f := range base {
		add(f)
		for _, outer := range outerEscapes {
			once := outer(f)
			add(once)
			for _, again := range outerEscapes {
				add(again(once))
			}
		}
	}
	return forms
}

// outerEscapes are the escapes an output applies to text it embeds.
var outerEscapes = []func(string) string{
	jsonEscape,
	html.EscapeString,
	// html/template (the HTML report) escapes + too.
	func(s string) string { return strings.ReplaceAll(html.EscapeString(s), "+", "&#43;") },
}

// jsonEscape returns s as encoding/json writes it inside a string.
func jsonEscape(s string) string {
	q, err := json.Marshal(s)
	if err != nil {
		return s
	}
	return string(q[1 : len(q)-1])
}

func baseForms(v string) []string {
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v), jsonEscape(v)}
	if headerToken(v) {
		// A value echoed in a header's name has its case changed: Go
		// canonicalises names (x-tok-qW01… is shown X-Tok-Qw01…), and
		// HTTP/2 writes them in lower case.
		forms = append(forms, textproto.CanonicalMIMEHeaderKey(v), strings.ToLower(v))
	}
	forms = append(forms, lowerHex(url.QueryEscape(v)), lowerHex(url.PathEscape(v)))
	q := strconv.Quote(v)
	forms = append(forms, q[1:len(q)-1])
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for align := 0; align < 3; align++ {
			padded := make([]byte, align+len(v))
			copy(padded[align:], v)
			text := enc.EncodeToString(padded)
			first := (8*align + 5) / 6       // the first character made of v's bits only
			last := 8 * (align + len(v)) / 6 // one past the last such character
			if last > first && last <= len(text) {
				forms = append(forms, text[first:last])
			}
		}
	}
	return forms
}

// headerToken reports whether v could be (part of) a header's name: RFC
// 9110's token characters only.
func headerToken(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// lowerHex writes the percent-escapes of s with lower-case hex digits, as
// some clients do.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if 'A' <= b[j] && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

// String returns text with every known secret form replaced by Mask.
func (s *Scrubber) String(text string) string {
	if s == nil || len(text) < MinLen {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.forms) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	s.scan([]byte(text), func(start, end int) {
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:start])
		b.WriteString(Mask)
		last = end
	})
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// Bytes is String for a byte slice; it returns b itself when nothing is
// replaced.
func (s *Scrubber) Bytes(b []byte) []byte {
	if s == nil || len(b) < MinLen {
		return b
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, _ := s.scrub(b, false)
	return out
}

// Error returns err's message scrubbed, for printing.
func (s *Scrubber) Error(err error) string {
	if err == nil {
		return ""
	}
	return s.String(err.Error())
}

// scan calls match for every leftmost-longest occurrence of a form in
// text, in order, without overlaps. Callers hold s.mu.
func (s *Scrubber) scan(text []byte, match func(start, end int)) (lastEnd int) {
	for i := 0; i+MinLen <= len(text); {
		p := uint16(text[i])<<8 | uint16(text[i+1])
		if s.pairs[p/64]&(1<<(p%64)) == 0 {
			i++
			continue
		}
		n := 0
		lengths := s.lengths[binary.LittleEndian.Uint32(text[i:i+4])]
		for _, l := range lengths {
			if l <= len(text)-i && s.forms[string(text[i:i+l])] {
				n = l
				break
			}
		}
		if len(lengths) > 0 {
			// A value cut for display ("abcd…", "abcd...") still
			// shows the start of the secret: mask the start too.
			n = max(n, s.cutPrefix(text[i:]))
		}
		if n == 0 {
			i++
			continue
		}
		match(i, i+n)
		i += n
		lastEnd = i
	}
	return lastEnd
}

// cutPrefix returns the length of the longest start of b that is followed
// by the mark of a value cut for display ("…", "...") and is a proper
// prefix of a form at least MinLen long, or 0. Callers hold s.mu.
func (s *Scrubber) cutPrefix(b []byte) int {
	b = b[:min(len(b), s.longest)]
	n := 0
	for _, mark := range [][]byte{[]byte("…"), []byte("...")} {
		for from := MinLen; from < len(b); {
			j := bytes.Index(b[from:], mark)
			if j < 0 {
				break
			}
			j += from
			if s.hasLongerForm(b[:j]) {
				n = max(n, j)
			}
			from = j + 1
		}
	}
	return n
}

// hasLongerForm reports whether some form starts with p and is longer.
// Callers hold s.mu.
func (s *Scrubber) hasLongerForm(p []byte) bool {
	found := false
	s.sorted.AscendGreaterOrEqual(string(p), func(f string) bool {
		found = len(f) > len(p) && f[:len(p)] == string(p)
		return false
	})
	return found
}

// scrub replaces the forms in b. With hold set, it also returns how many
// bytes at the end of the result must wait for more input: the longest
// tail of b, after the last match, that starts some form. Callers hold
// s.mu.
func (s *Scrubber) scrub(b []byte, hold bool) (out []byte, held int) {
	if len(s.forms) == 0 {
		return b, 0
	}
	var buf bytes.Buffer
	last := 0
	lastEnd := s.scan(b, func(start, end int) {
		buf.Write(b[last:start])
		buf.WriteString(Mask)
		last = end
	})
	if hold {
		held = s.heldTail(b[lastEnd:])
	}
	if last == 0 {
		return b, held
	}
	buf.Write(b[last:])
	return buf.Bytes(), held
}

// heldTail returns the length of the longest suffix of b that is a proper
// prefix of some form.
func (s *Scrubber) heldTail(b []byte) int {
	from := max(0, len(b)-s.longest+1)
	for i := from; i < len(b); i++ {
		tail := b[i:]
		if len(tail) < 4 {
			if s.heads[string(tail)] {
				return len(tail)
			}
			continue
		}
		if len(s.lengths[binary.LittleEndian.Uint32(tail[:4])]) > 0 && s.hasLongerForm(tail) {
			return len(tail)
		}
	}
	return 0
}
