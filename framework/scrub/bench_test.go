package scrub

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkWriter scrubs JSON-like text with 1,000 registered values (6,000+
// forms), the worst case of a run that learned a session cookie per
// request, written in 4 KiB pieces as the outputs are.
func BenchmarkWriter(b *testing.B) {
	s := New()
	for i := range 1000 {
		s.Add(fmt.Sprintf("sess-%08x-value", i*7919))
	}
	line := `{"path":"$.items[3].price","kind":"value","prod":"12.50","shadow":"12.55","origin":"traffic.har: entry 12"}` + "\n"
	text := []byte(strings.Repeat(line, 4<<20/len(line)))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		w := s.Writer(io.Discard)
		for i := 0; i < len(text); i += 4096 {
			w.Write(text[i:min(i+4096, len(text))])
		}
		w.Flush()
	}
}
