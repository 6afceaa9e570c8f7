package traffic

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestLines checks the bounded line reader both readers share, with a
// buffer smaller than the lines so that every path is taken.
func TestLines(t *testing.T) {
	const max = 20 // over the 16-byte buffer
	tests := []struct {
		input  string
		want   []string // "!" marks a line over max
		reason string
	}{
		{"", nil, "empty input: io.EOF at once"},
		{"a\nb", []string{"a\n", "b"}, "the last line may lack its newline"},
		{"0123456789abcdefghij\n", []string{"!"}, "max counts the newline"},
		{"0123456789abcdefghi\n", []string{"0123456789abcdefghi\n"}, "exactly max, longer than the buffer"},
		{"0123456789abcdefghij0123456789\r\nok\r\n", []string{"!", "ok\r\n"}, "a long line is consumed, the next one read"},
		{"0123456789abcdefghijklmn", []string{"!"}, "a long last line"},
		{"0123456789ab\n", []string{"0123456789ab\n"}, "within the buffer"},
		{strings.Repeat("x", 100), []string{"!"}, "a long last line without newline"},
		{"\n\n", []string{"\n", "\n"}, "blank lines"},
	}
	for _, tt := range tests {
		l := newLines(strings.NewReader(tt.input), 16, max)
		var got []string
		for {
			line, tooLong, err := l.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.reason, err)
			}
			if tooLong {
				if line != nil {
					t.Errorf("%s: a line over max came with %d bytes", tt.reason, len(line))
				}
				got = append(got, "!")
				continue
			}
			got = append(got, string(line))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, want %q", tt.reason, got, tt.want)
		}
	}
}
