package compare

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/shadowtest/shadowtest/framework"
)

// Bounds of a text body difference: how much of each body is diffed line
// by line, how many lines of context the excerpt keeps around a change,
// how many lines it holds, and how long each of them may be.
const (
	MaxTextDiffInput = 64 << 10
	excerptContext   = 2
	MaxExcerptLines  = 40
	excerptLineLimit = 200
)

// textDiff describes two text bodies that differ: the values shown are the
// first line that differs on each side ("line 12: ..." when a body has
// several lines), cut around its first differing byte when it is long;
// Excerpt is a unified diff of the lines (github.com/aymanbagabas/go-udiff,
// the Go tools' diff). The masks that apply to the whole body are applied
// to each line first, so that masked values neither show as changes nor
// hide the real one. A body that looks like JSON or a form is shown from
// its start instead, without an excerpt, because the outputs redact such
// bodies whole. Only the first MaxTextDiffInput bytes of each body
// are diffed, and the excerpt is cut at MaxExcerptLines lines. The kind is
// size when the bodies' lengths differ, value otherwise.
func (c *Comparator) textDiff(prodBody, shadowBody []byte) framework.Diff {
	d := framework.Diff{Path: "body", Kind: framework.KindValue}
	if len(prodBody) != len(shadowBody) {
		d.Kind = framework.KindSize
	}
	if structured(prodBody) || structured(shadowBody) {
		// JSON that did not parse, or a form: shown from its start, whole,
		// so that redaction can parse it (or withhold it) before output;
		// a line or an excerpt out of it could carry a secret member.
		d.Prod, d.Shadow = clipBytes(prodBody), clipBytes(shadowBody)
		return d
	}
	cut := len(prodBody) > MaxTextDiffInput || len(shadowBody) > MaxTextDiffInput
	prod := c.maskLines(splitLines(prodBody[:min(len(prodBody), MaxTextDiffInput)]))
	shadow := c.maskLines(splitLines(shadowBody[:min(len(shadowBody), MaxTextDiffInput)]))

	first := 0
	for first < len(prod) && first < len(shadow) && prod[first] == shadow[first] {
		first++
	}
	if first == len(prod) && first == len(shadow) {
		// Equal up to the diff cap (or once masked line by line).
		d.Prod, d.Shadow = clipBytes(prodBody), clipBytes(shadowBody)
		return d
	}
	p, s := lineAt(prod, first), lineAt(shadow, first)
	at := commonPrefix(p, s)
	prefix := ""
	if len(prod) > 1 || len(shadow) > 1 {
		prefix = "line " + strconv.Itoa(first+1) + ": "
	}
	d.Prod = prefix + window(p, at, first < len(prod))
	d.Shadow = prefix + window(s, at, first < len(shadow))
	d.Excerpt = excerpt(strings.Join(prod, ""), strings.Join(shadow, ""), cut)
	return d
}

// structured reports whether a text body looks like a JSON document (or
// starts with a byte order mark) or a form: the outputs redact such a body
// as a whole (framework/redact), never line by line.
func structured(body []byte) bool {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\ufeff")), " \t\r\n")
	switch {
	case len(trimmed) < len(body) && bytes.HasPrefix(body, []byte("\ufeff")):
		return true
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		return true
	}
	return bytes.IndexByte(trimmed, '=') >= 0 && !bytes.ContainsAny(trimmed, " \t\r\n{}<>\"")
}

// splitLines splits text after each "\\n", keeping it.
func splitLines(text []byte) []string {
	var lines []string
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n') + 1
		if i == 0 {
			i = len(text)
		}
		lines = append(lines, string(text[:i]))
		text = text[i:]
	}
	return lines
}

// maskLines applies the masks that cover the whole body to each line.
func (c *Comparator) maskLines(lines []string) []string {
	for _, m := range c.masks {
		if m.path != nil && !m.path.Matches(nil) {
			continue
		}
		for i, line := range lines {
			lines[i] = m.re.ReplaceAllString(line, MaskPlaceholder)
		}
	}
	return lines
}

func lineAt(lines []string, i int) string {
	if i >= len(lines) {
		return ""
	}
	return strings.TrimRight(lines[i], "\r\n")
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// window shows a line for a Diff: whole when short, else from a little
// before byte at, so that the change is in view; "(no line)" when the body
// has no such line.
func window(line string, at int, exists bool) string {
	if !exists {
		return "(no line)"
	}
	const before = 40
	if len(line) <= displayLimit || at <= before {
		return clipString(line)
	}
	start := at - before
	for start > 0 && !utf8.RuneStart(line[start]) {
		start--
	}
	return clipString(ellipsis + line[start:])
}

// excerpt is a unified diff of two texts, cut to MaxExcerptLines lines of
// at most excerptLineLimit bytes each.
func excerpt(prod, shadow string, cut bool) string {
	unified, err := udiff.ToUnified("prod", "shadow", prod, udiff.Lines(prod, shadow), excerptContext)
	if err != nil || unified == "" {
		return ""
	}
	lines := strings.SplitAfter(unified, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	for i, line := range lines {
		if i == MaxExcerptLines {
			fmt.Fprintf(&b, "… %d more lines\n", len(lines)-i)
			break
		}
		line = strings.TrimRight(line, "\n")
		line = strings.ToValidUTF8(line, "\uFFFD")
		if len(line) > excerptLineLimit {
			end := excerptLineLimit
			for !utf8.RuneStart(line[end]) {
				end--
			}
			line = line[:end] + ellipsis
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if cut {
		fmt.Fprintf(&b, "… only the first %d bytes of each body were diffed\n", MaxTextDiffInput)
	}
	return b.String()
}
