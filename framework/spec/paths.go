package spec

import (
	"errors"
	"strconv"
	"strings"

	"cuelang.org/go/cue"

	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// checkPaths parses every response path of the spec (ignore, tolerance,
// shape, unordered, masks, errors.by, report.redact) with fieldpath, the one
// parser of the path grammar: the schema's #Path only checks that a path
// starts with $ or header:, so that the grammar has one definition.
func (d *decoder) checkPaths() {
	d.rulePaths(cue.Str("defaults"))
	if iter, err := d.value.LookupPath(cue.MakePath(cue.Str("endpoints"))).Fields(); err == nil {
		for iter.Next() {
			d.rulePaths(cue.Str("endpoints"), iter.Selector())
		}
	}
	d.pathList([]cue.Selector{cue.Str("report"), cue.Str("redact")}, "", true)
}

// rulePaths checks the paths of one rule set (defaults or an endpoint).
func (d *decoder) rulePaths(base ...cue.Selector) {
	at := func(more ...cue.Selector) []cue.Selector {
		return append(append([]cue.Selector{}, base...), more...)
	}
	d.pathList(at(cue.Str("ignore")), "", true)
	d.pathList(at(cue.Str("unordered")), "path", true)
	d.pathList(at(cue.Str("masks")), "path", false) // a plain mask is a pattern
	d.checkPath(at(cue.Str("errors"), cue.Str("by")))
	for _, keyed := range []string{"tolerance", "shape"} {
		if iter, err := d.value.LookupPath(cue.MakePath(at(cue.Str(keyed))...)).Fields(); err == nil {
			for iter.Next() {
				path := at(cue.Str(keyed), iter.Selector())
				d.parsePath(path, iter.Selector().Unquoted())
				if keyed == "shape" && strings.HasPrefix(iter.Selector().Unquoted(), "header:") {
					d.report(path, d.pos(path...), "shape rules apply to body values, not headers: use a body path such as \"$.requestId\"")
				}
			}
		}
	}
}

// pathList checks a list of paths; member names the field holding the
// path when an element is a struct ({path: ..., key: ...}), plain says
// whether an element that is a string is a path.
func (d *decoder) pathList(list []cue.Selector, member string, plain bool) {
	iter, err := d.value.LookupPath(cue.MakePath(list...)).List()
	if err != nil {
		return
	}
	for i := 0; iter.Next(); i++ {
		at := append(append([]cue.Selector{}, list...), cue.Index(i))
		switch {
		case iter.Value().Kind() == cue.StructKind && member != "":
			at = append(at, cue.Str(member))
		case !plain:
			continue
		}
		d.checkPath(at)
	}
}

// checkPath parses the path string at at, if there is one.
func (d *decoder) checkPath(at []cue.Selector) {
	s, err := d.value.LookupPath(cue.MakePath(at...)).String()
	if err != nil {
		return // absent, or not a path (a mask pattern): the schema said so
	}
	d.parsePath(at, s)
}

func (d *decoder) parsePath(at []cue.Selector, s string) {
	if _, err := fieldpath.Parse(s); err != nil {
		detail := err.Error()
		var syntax *fieldpath.SyntaxError
		if errors.As(err, &syntax) {
			detail = syntax.Msg + " at offset " + strconv.Itoa(syntax.Offset)
		}
		d.report(at, d.pos(at...), "invalid path %s: %s (%s)", strconv.Quote(s), detail, pathWant)
	}
}
