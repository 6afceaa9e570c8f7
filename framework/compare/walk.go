package compare

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/fieldpath"
)

// walker compares two decoded JSON documents depth-first, keeping the
// concrete location of the values being compared in loc.
type walker struct {
	c     *Comparator
	diffs []framework.Diff
	loc   []fieldpath.Step
	keys  []string // scratch space for member names, reused across objects
}

// compare compares the values at w.loc, which the caller has checked is
// not ignored.
func (w *walker) compare(prod, shadow any) {
	switch p := prod.(type) {
	case map[string]any:
		if s, ok := shadow.(map[string]any); ok {
			w.object(p, s)
			return
		}
	case []any:
		if s, ok := shadow.([]any); ok {
			w.array(p, s)
			return
		}
	case json.Number:
		if s, ok := shadow.(json.Number); ok {
			if !w.numbersMatch(string(p), string(s)) {
				w.report(framework.KindValue, prod, shadow)
			}
			return
		}
	case string:
		if s, ok := shadow.(string); ok {
			if p != s {
				w.report(framework.KindValue, prod, shadow)
			}
			return
		}
	case bool:
		if s, ok := shadow.(bool); ok {
			if p != s {
				w.report(framework.KindValue, prod, shadow)
			}
			return
		}
	case nil:
		if shadow == nil {
			return
		}
	}
	w.report(framework.KindType, prod, shadow)
}

// object compares members by name, in byte order of the names so that the
// diffs come out in a stable order.
func (w *walker) object(prod, shadow map[string]any) {
	start := len(w.keys)
	for k := range prod {
		w.keys = append(w.keys, k)
	}
	for k := range shadow {
		if _, ok := prod[k]; !ok {
			w.keys = append(w.keys, k)
		}
	}
	slices.Sort(w.keys[start:])
	// w.keys may grow (and move) while children are compared: index it.
	for i := start; i < len(w.keys); i++ {
		key := w.keys[i]
		w.loc = append(w.loc, fieldpath.Key(key))
		if !w.ignored() {
			p, inProd := prod[key]
			s, inShadow := shadow[key]
			switch {
			case !inShadow:
				w.report(framework.KindMissing, p, nil)
			case !inProd:
				w.report(framework.KindExtra, nil, s)
			default:
				w.compare(p, s)
			}
		}
		w.loc = w.loc[:len(w.loc)-1]
	}
	w.keys = w.keys[:start]
}

// array compares elements by index over the common prefix; a length
// difference is one size diff at the array itself.
func (w *walker) array(prod, shadow []any) {
	if len(prod) != len(shadow) {
		w.diffs = append(w.diffs, framework.Diff{
			Path:   fieldpath.Format(w.loc),
			Kind:   framework.KindSize,
			Prod:   elements(len(prod)),
			Shadow: elements(len(shadow)),
		})
	}
	for i := range min(len(prod), len(shadow)) {
		w.loc = append(w.loc, fieldpath.Index(i))
		if !w.ignored() {
			w.compare(prod[i], shadow[i])
		}
		w.loc = w.loc[:len(w.loc)-1]
	}
}

func elements(n int) string {
	if n == 1 {
		return "1 element"
	}
	return strconv.Itoa(n) + " elements"
}

func (w *walker) ignored() bool {
	return w.c.ignore.Len() > 0 && w.c.ignore.Match(w.loc)
}

// numbersMatch reports whether two JSON numbers are equal in value or
// within the tolerance that applies at w.loc.
func (w *walker) numbersMatch(prod, shadow string) bool {
	if prod == shadow || decimalEqual(prod, shadow) {
		return true
	}
	if w.c.tolerance.Len() == 0 {
		return false
	}
	i := w.c.tolerance.Find(w.loc)
	return i >= 0 && withinTolerance(prod, shadow, w.c.tolerances[i])
}

// report appends a diff at w.loc; a nil value on the missing or extra side
// is shown as "".
func (w *walker) report(kind framework.DiffKind, prod, shadow any) {
	d := framework.Diff{Path: fieldpath.Format(w.loc), Kind: kind}
	if kind != framework.KindExtra {
		d.Prod = display(prod)
	}
	if kind != framework.KindMissing {
		d.Shadow = display(shadow)
	}
	w.diffs = append(w.diffs, d)
}
