package compare

import (
	"bytes"
	"strconv"

	"github.com/shadowtest/shadowtest/framework"
)

// maxTextDiffs bounds the token differences one text body reports; a
// body that differs in more places is one "body" difference.
const maxTextDiffs = 16

// tokenDiffs compares two text bodies line by line and, inside a changed
// line, token by token, for endpoints that learn noise (Rules.TextTokens):
// a token that varies in prod becomes a noise path of its own, with a
// shape, and the rest of the body must still match. A changed token is
// reported at "body:LINE:TOKEN" (both from 1), a changed line whose tokens
// do not line up at "body:LINE". ok is false when the bodies have different
// line counts or differ in more than maxTextDiffs places: the caller then
// reports the whole body.
func (c *Comparator) tokenDiffs(diffs []framework.Diff, prod, shadow []byte) (_ []framework.Diff, ok bool) {
	if bytes.Count(prod, []byte{'\n'}) != bytes.Count(shadow, []byte{'\n'}) {
		return diffs, false
	}
	start := len(diffs)
	prodRest, shadowRest := prod, shadow
	for line := 1; prodRest != nil; line++ {
		var p, s []byte
		p, prodRest = cutLine(prodRest)
		s, shadowRest = cutLine(shadowRest)
		if bytes.Equal(p, s) || len(c.masks) > 0 && c.masked(nil, p, s) {
			continue
		}
		prodTokens, shadowTokens := tokens(p), tokens(s)
		if len(prodTokens) != len(shadowTokens) {
			diffs = append(diffs, c.tokenDiff("body:"+strconv.Itoa(line), p, s))
		} else {
			for i := range prodTokens {
				pt, st := prodTokens[i], shadowTokens[i]
				if bytes.Equal(pt, st) || len(c.masks) > 0 && c.masked(nil, pt, st) {
					continue
				}
				diffs = append(diffs, c.tokenDiff("body:"+strconv.Itoa(line)+":"+strconv.Itoa(i+1), pt, st))
			}
		}
		if len(diffs)-start > maxTextDiffs {
			return diffs[:start], false
		}
	}
	return diffs, true
}

// tokenDiff is a difference between two pieces of text, shown as JSON
// strings; a value in a distinctive format that the shadow lost is a shape
// difference, as in JSON bodies.
func (c *Comparator) tokenDiff(path string, prod, shadow []byte) framework.Diff {
	kind := framework.KindValue
	if lostFormat(prod, shadow) {
		kind = framework.KindShape
	}
	return framework.Diff{Path: path, Kind: kind, Prod: clipBytes(appendString(nil, string(prod))), Shadow: clipBytes(appendString(nil, string(shadow)))}
}

// cutLine returns the first line of text (without its newline) and the
// rest, nil after the last line.
func cutLine(text []byte) (line, rest []byte) {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		return text[:i], text[i+1:]
	}
	return text, nil
}

// tokens splits a line into runs of characters that are neither space nor
// markup or list punctuation, and single such characters (spaces in runs):
// "<td>127.0.0.1:40224</td>" is "<", "td", ">", "127.0.0.1:40224", "<",
// "/td", ">". An address, a time or a UUID stays one token.
func tokens(line []byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(line); {
		j := i + 1
		switch {
		case isSpace(line[i]):
			for j < len(line) && isSpace(line[j]) {
				j++
			}
		case isDelimiter(line[i]):
		default:
			for j < len(line) && !isSpace(line[j]) && !isDelimiter(line[j]) {
				j++
			}
		}
		out = append(out, line[i:j])
		i = j
	}
	return out
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' }

func isDelimiter(b byte) bool {
	switch b {
	case '<', '>', '"', '\'', '=', ',', ';', '(', ')', '{', '}', '&', '|', '`':
		return true
	}
	return false
}
