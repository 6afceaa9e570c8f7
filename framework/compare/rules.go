package compare

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
	"github.com/shadowtest/shadowtest/framework/internal/shape"
)

// MaskPlaceholder replaces what a mask matches, on both sides.
const MaskPlaceholder = "<masked>"

// mask is a compiled framework.Mask.
type mask struct {
	path *fieldpath.Path // nil: every string and text bodies
	re   *regexp.Regexp
}

// compileRules compiles the rules beyond ignore, headers and tolerance.
func (c *Comparator) compileRules(rules framework.Rules) error {
	var unordered []fieldpath.Path
	for _, u := range rules.Unordered {
		p, err := fieldpath.Parse(u.Path)
		if err != nil {
			return fmt.Errorf("compare: unordered: %w", err)
		}
		if p.IsHeader() {
			return fmt.Errorf("compare: unordered %s: applies to body arrays, not headers", u.Path)
		}
		c.keyedRules = c.keyedRules || p.HasKeyed()
		unordered = append(unordered, p)
		c.unorderedKeys = append(c.unorderedKeys, u.Key)
	}
	c.unordered = fieldpath.NewSet(unordered...)
	for _, m := range rules.Masks {
		re, err := regexp.Compile(m.Pattern)
		if err != nil {
			return fmt.Errorf("compare: mask %q: %w", m.Pattern, err)
		}
		compiled := mask{re: re}
		if m.Path != "" {
			p, err := fieldpath.Parse(m.Path)
			if err != nil {
				return fmt.Errorf("compare: mask: %w", err)
			}
			if p.IsHeader() {
				return fmt.Errorf("compare: mask %s: applies to body strings, not headers", m.Path)
			}
			c.keyedRules = c.keyedRules || p.HasKeyed()
			compiled.path = &p
		}
		c.masks = append(c.masks, compiled)
	}
	if err := c.compileShapes(rules.Shape); err != nil {
		return err
	}
	if rules.ErrorsBy != "" {
		p, err := fieldpath.Parse(rules.ErrorsBy)
		if err != nil {
			return fmt.Errorf("compare: errors.by: %w", err)
		}
		if p.IsHeader() {
			return fmt.Errorf("compare: errors.by %s: must be a body path such as $.error.code", rules.ErrorsBy)
		}
		c.errorsBy = &p
	}
	if rules.DigestAbove < 0 {
		return fmt.Errorf("compare: digestAbove must be >= 0, got %d", rules.DigestAbove)
	}
	c.digestAbove = rules.DigestAbove
	if rules.MaxDecodedBytes < 0 {
		return fmt.Errorf("compare: maxDecodedBytes must be >= 0, got %d", rules.MaxDecodedBytes)
	}
	c.maxDecoded = rules.MaxDecodedBytes
	return nil
}

// compileShapes compiles the shape rules. When several paths match one
// location, the first in byte order of their text applies.
func (c *Comparator) compileShapes(rules map[string]framework.ShapeRule) error {
	texts := make([]string, 0, len(rules))
	for text := range rules {
		texts = append(texts, text)
	}
	slices.Sort(texts)
	paths := make([]fieldpath.Path, 0, len(texts))
	for _, text := range texts {
		p, err := fieldpath.Parse(text)
		if err != nil {
			return fmt.Errorf("compare: shape: %w", err)
		}
		if p.IsHeader() {
			return fmt.Errorf("compare: shape %s: applies to body values, not headers", text)
		}
		s, err := shape.Declared(rules[text].Format, rules[text].Pattern)
		if err != nil {
			return fmt.Errorf("compare: shape %s: %w", text, err)
		}
		c.keyedRules = c.keyedRules || p.HasKeyed()
		paths = append(paths, p)
		c.shapes = append(c.shapes, s)
	}
	c.shape = fieldpath.NewSet(paths...)
	return nil
}

// masked reports whether prod and shadow are equal once the masks that
// apply at loc have replaced what they match.
func (c *Comparator) masked(loc []fieldpath.Step, prod, shadow []byte) bool {
	applied := false
	for _, m := range c.masks {
		if m.path != nil && !m.path.Matches(loc) {
			continue
		}
		applied = true
		prod = m.re.ReplaceAll(prod, []byte(MaskPlaceholder))
		shadow = m.re.ReplaceAll(shadow, []byte(MaskPlaceholder))
	}
	return applied && string(prod) == string(shadow)
}

// timeWithin reports whether two RFC 3339 timestamps are at most skew
// apart.
func timeWithin(prod, shadow string, skew time.Duration) bool {
	p, err := time.Parse(time.RFC3339Nano, prod)
	if err != nil {
		return false
	}
	s, err := time.Parse(time.RFC3339Nano, shadow)
	if err != nil {
		return false
	}
	d := p.Sub(s)
	return d <= skew && -d <= skew
}

// epochWithin reports whether two numbers, read as Unix timestamps, are at
// most skew apart. The unit comes from the magnitude of prod's value:
// nanoseconds from 1e17, microseconds from 1e14, milliseconds from 1e11,
// seconds below (1e11 seconds is the year 5138).
func epochWithin(prod, shadow string, skew time.Duration) bool {
	p, err := strconv.ParseFloat(prod, 64)
	if err != nil {
		return false
	}
	s, err := strconv.ParseFloat(shadow, 64)
	if err != nil {
		return false
	}
	unit := float64(time.Second)
	switch abs := math.Abs(p); {
	case abs >= 1e17:
		unit = 1
	case abs >= 1e14:
		unit = float64(time.Microsecond)
	case abs >= 1e11:
		unit = float64(time.Millisecond)
	}
	return math.Abs(p-s)*unit <= float64(skew)
}
