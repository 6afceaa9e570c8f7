package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// hiddenKeys reports every CUE hidden field (_page) and definition (#page)
// declared in a map whose keys are data: a struct the schema gives a
// pattern constraint, such as match.query, headers, tolerance or
// endpoints. CUE leaves such labels out of the data, so the rule they were
// meant to be would be dropped without a word; quoting the label makes it
// a key. Hidden fields elsewhere (helpers at the top or in an endpoint) are
// left alone, and so is what is inside them.
func (l *loader) hiddenKeys(value cue.Value) []Problem {
	if !l.hidden {
		return nil // most specs have none: no need to walk the whole value
	}
	var problems []Problem
	var walk func(v cue.Value, path []cue.Selector)
	walk = func(v cue.Value, path []cue.Selector) {
		switch v.IncompleteKind() {
		case cue.StructKind:
			iter, err := v.Fields(cue.Hidden(true), cue.Definitions(true))
			if err != nil {
				return
			}
			isMap := -1 // unknown until a hidden label asks
			for iter.Next() {
				sel := iter.Selector()
				switch sel.LabelType() {
				case cue.StringLabel:
					walk(iter.Value(), append(slices.Clip(path), sel))
					continue
				case cue.HiddenLabel, cue.DefinitionLabel:
				default:
					continue
				}
				name := sel.String()
				if isMap < 0 {
					isMap = 0
					if keysAreData(v, name) {
						isMap = 1
					}
				}
				if isMap == 0 {
					continue
				}
				what := "hidden field"
				if sel.IsDefinition() {
					what = "definition"
				}
				problems = append(problems, Problem{
					Pos:  l.position(l.labelPos(iter.Value(), path, name)),
					Path: cue.MakePath(path...).String(),
					Message: fmt.Sprintf("%s is a CUE %s and would be ignored; quote it: %s",
						name, what, strconv.Quote(name)),
				})
			}
		case cue.ListKind:
			iter, err := v.List()
			if err != nil {
				return
			}
			for i := 0; iter.Next(); i++ {
				walk(iter.Value(), append(slices.Clip(path), cue.Index(i)))
			}
		}
	}
	walk(value, nil)
	return problems
}

// hasHiddenLabel reports whether a file declares a field labelled with a
// hidden identifier (_x) or a definition (#x) anywhere.
func hasHiddenLabel(file *ast.File) bool {
	found := false
	ast.Walk(file, func(n ast.Node) bool {
		if found {
			return false
		}
		if f, ok := n.(*ast.Field); ok {
			if id, ok := f.Label.(*ast.Ident); ok && (strings.HasPrefix(id.Name, "_") || strings.HasPrefix(id.Name, "#")) && id.Name != "_" {
				found = true
				return false
			}
		}
		return true
	}, nil)
	return found
}

// keysAreData reports whether the struct v is a map: the schema gives it a
// pattern constraint ([string]: X, [=~"..."]: X or [#Path]: X), so its
// field names are data rather than fixed names.
func keysAreData(v cue.Value, name string) bool {
	if v.LookupPath(cue.MakePath(cue.AnyString)).Exists() || v.Allows(cue.Str(name)) {
		return true
	}
	// A pattern on a type ([#Path]: X) answers neither question above;
	// the raw syntax of the struct still holds it.
	return hasPattern(v.Syntax(cue.Raw()))
}

// hasPattern reports whether a struct expression declares a pattern
// constraint at its own level (embedded structs and unifications
// included, field values not).
func hasPattern(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.StructLit:
		for _, elt := range n.Elts {
			switch elt := elt.(type) {
			case *ast.Field:
				if _, ok := elt.Label.(*ast.ListLit); ok {
					return true
				}
			case *ast.EmbedDecl:
				if hasPattern(elt.Expr) {
					return true
				}
			}
		}
	case *ast.BinaryExpr:
		return n.Op == token.AND && (hasPattern(n.X) || hasPattern(n.Y))
	case *ast.ParenExpr:
		return hasPattern(n.X)
	}
	return false
}

// labelPos is where a hidden label is declared: CUE's position of the
// field when it is in a user file, else the nearest declared parent.
func (l *loader) labelPos(v cue.Value, path []cue.Selector, name string) token.Pos {
	if p := v.Pos(); l.isUser(p) {
		return p
	}
	return l.nearest(path)
}
