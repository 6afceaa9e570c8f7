package spec

import (
	"fmt"
	"regexp"
	"strings"

	"cuelang.org/go/cue"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
	"github.com/shadowtest/shadowtest/framework/internal/shape"
)

// Raw forms of the comparison rules beyond ignore, headers and tolerance.
type (
	rawErrors struct {
		By string `json:"by"`
	}
	rawNoise struct {
		Probe    float64 `json:"probe"`
		MinDiffs int     `json:"minDiffs"`
	}
	rawKnown struct {
		Category string `json:"category"`
		Reason   string `json:"reason"`
	}
)

// comparisonRules decodes unordered, masks, errors, digestAbove, noise
// (each inherited from defaults when the endpoint leaves it out) and the
// endpoint's own known categories into e, and checks what the schema
// cannot: mask patterns must compile.
func (d *decoder) comparisonRules(e *framework.Endpoint, path []cue.Selector, raw, defaults rawRules) {
	masksFrom := path
	if raw.Masks == nil {
		masksFrom = []cue.Selector{cue.Str("defaults")}
	}
	for _, u := range *or(raw.Unordered, defaults.Unordered) {
		switch u := u.(type) {
		case string:
			e.Rules.Unordered = append(e.Rules.Unordered, framework.Unordered{Path: u})
		case map[string]any:
			p, _ := u["path"].(string)
			k, _ := u["key"].(string)
			e.Rules.Unordered = append(e.Rules.Unordered, framework.Unordered{Path: p, Key: k})
		}
	}
	for i, m := range *or(raw.Masks, defaults.Masks) {
		var mask framework.Mask
		switch m := m.(type) {
		case string:
			mask.Pattern = m
		case map[string]any:
			mask.Path, _ = m["path"].(string)
			mask.Pattern, _ = m["pattern"].(string)
		}
		at := append(append([]cue.Selector{}, masksFrom...), cue.Str("masks"), cue.Index(i))
		if _, isString := m.(string); !isString {
			at = append(at, cue.Str("pattern"))
		}
		re, err := regexp.Compile(mask.Pattern)
		if err != nil {
			d.report(at, d.pos(at...), "invalid regular expression %q: %v", mask.Pattern, regexpMessage(err))
			continue
		}
		if matchesNothing(re) {
			d.report(at, d.pos(at...), "mask %q can match the empty string, so it would put %s between every two characters "+
				"of every value (a body nine times its size): match one character or more (+ rather than *, no ?)",
				mask.Pattern, compare.MaskPlaceholder)
			continue
		}
		e.Rules.Masks = append(e.Rules.Masks, mask)
	}
	if errs := or(raw.Errors, defaults.Errors); errs.By != "" {
		e.Rules.ErrorsBy = errs.By
	}
	e.Rules.DigestAbove = *or(raw.DigestAbove, defaults.DigestAbove)
	noise := or(raw.Noise, defaults.Noise)
	e.Noise = framework.Noise{Probe: noise.Probe, MinDiffs: noise.MinDiffs}
	// Shape rules of defaults and of the endpoint add up (a map, unlike
	// the lists); the endpoint's rule wins for the same path.
	d.shapeRules(e, []cue.Selector{cue.Str("defaults")}, defaults.Shape)
	d.shapeRules(e, path, raw.Shape)
	if raw.Known != nil {
		e.Known = make([]framework.KnownCategory, 0, len(*raw.Known))
		for _, k := range *raw.Known {
			e.Known = append(e.Known, framework.KnownCategory{Category: k.Category, Reason: k.Reason})
		}
		e.KnownPos = orPos(d.pos(append(path, cue.Str("known"))...), e.Pos)
	}
}

// shapeRules decodes the shape rules declared at from into e.
func (d *decoder) shapeRules(e *framework.Endpoint, from []cue.Selector, rules *map[string]any) {
	if rules == nil {
		return
	}
	for text, rule := range *rules {
		var r framework.ShapeRule
		switch rule := rule.(type) {
		case string:
			r.Format = rule
			if _, err := shape.Declared(rule, ""); err != nil {
				at := append(append([]cue.Selector{}, from...), cue.Str("shape"), cue.Str(text))
				names := append(shape.FormatNames(), "string", "number")
				hint := ""
				if guess := closest(rule, names); guess != "" {
					hint = fmt.Sprintf("; did you mean %q?", guess)
				}
				d.report(at, d.pos(at...), "unknown shape %q (want one of %s, or {pattern: \"RE2\"}%s)", rule, strings.Join(names, ", "), hint)
				continue
			}
		case map[string]any:
			r.Pattern, _ = rule["pattern"].(string)
		}
		if _, err := regexp.Compile(r.Pattern); err != nil {
			at := append(append([]cue.Selector{}, from...), cue.Str("shape"), cue.Str(text), cue.Str("pattern"))
			d.report(at, d.pos(at...), "invalid regular expression %q: %v", r.Pattern, regexpMessage(err))
			continue
		}
		if e.Rules.Shape == nil {
			e.Rules.Shape = map[string]framework.ShapeRule{}
		}
		e.Rules.Shape[text] = r
	}
}

// regexpMessage is a regexp error without its "error parsing regexp: "
// prefix.
func regexpMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// emptyMatchSamples are the characters of the values a mask is tried on:
// a mask with empty matches at two places of one of them matches between
// characters.
var emptyMatchSamples = []string{"x", "0", " ", "/", "-", "\t", "é", "x\n"} // "x\n": one per line, (?m)^[0-9]*

// matchesNothing reports whether a mask matches the empty string at more
// than one place of a short value ("", "[0-9]*", "x?", "[^/]*" in "///"):
// replacing empty matches inserts the placeholder at every position, which
// compares alike on both sides but multiplies the memory and time of every
// comparison. A mask that can match an empty value but takes whole values
// (".*"), or an empty match held to one place by an anchor ("^[0-9]*",
// "\\s*$": one placeholder a value), is fine.
func matchesNothing(re *regexp.Regexp) bool {
	if !re.MatchString("") {
		return false
	}
	for _, sample := range emptyMatchSamples {
		empty := 0
		for _, loc := range re.FindAllStringIndex(strings.Repeat(sample, 3), -1) {
			if loc[0] == loc[1] {
				empty++
			}
		}
		if empty > 1 {
			return true
		}
	}
	return false
}
