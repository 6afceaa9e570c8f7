package spec

import (
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/schemas"
)

// files turns CUE positions into the names users see, and remembers where
// each path of the user's files is first declared.
type files struct {
	dir    string // the spec directory as the caller gave it, cleaned
	absDir string
	decls  map[string]token.Pos // CUE path → first declaration, in file order
}

func newFiles(dir string) (*files, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &files{dir: filepath.Clean(dir), absDir: absDir, decls: map[string]token.Pos{}}, nil
}

// isUser reports whether p is in one of the spec directory's own files (not
// the schema, not cue.mod).
func (f *files) isUser(p token.Pos) bool {
	return p.IsValid() && filepath.Dir(p.Filename()) == f.absDir
}

// isSchema reports whether p is in the schema, compiled or imported.
func (f *files) isSchema(p token.Pos) bool {
	return p.IsValid() && !f.isUser(p) && filepath.Base(p.Filename()) == schemas.File
}

// position converts p, naming files relative to the directory as given.
func (f *files) position(p token.Pos) framework.Position {
	if !p.IsValid() {
		return framework.Position{}
	}
	name := p.Filename()
	if rel, err := filepath.Rel(f.absDir, name); err == nil && !strings.HasPrefix(rel, "..") {
		name = filepath.Join(f.dir, rel)
	}
	return framework.Position{File: name, Line: p.Line(), Col: p.Column()}
}

// declared returns where path is first declared in the user's files. CUE's
// own positions pick the last of several declarations, and the value rather
// than the label, which is not where a user looks for an endpoint.
func (f *files) declared(path cue.Path) (token.Pos, bool) {
	p, ok := f.decls[path.String()]
	return p, ok
}

// nearest returns the declaration of path or of its closest declared parent.
func (f *files) nearest(path []cue.Selector) token.Pos {
	for n := len(path); n > 0; n-- {
		if p, ok := f.declared(cue.MakePath(path[:n]...)); ok {
			return p
		}
	}
	return token.NoPos
}

// index records the declarations of a user file. It follows plain fields,
// struct literals, list elements and unifications; anything computed is left
// to CUE's own positions.
func (f *files) index(file *ast.File) {
	f.walkDecls(file.Decls, nil)
}

func (f *files) walkDecls(decls []ast.Decl, path []cue.Selector) {
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Field:
			name, isIdent, err := ast.LabelName(d.Label)
			if err != nil || d.Constraint != token.ILLEGAL || (isIdent && strings.HasPrefix(name, "_")) {
				continue
			}
			sel := cue.Str(name)
			if isIdent && strings.HasPrefix(name, "#") {
				// A definition of the user's own: CUE reports some errors
				// in it (a structural cycle) with no position at all.
				sel = cue.Def(name)
			}
			p := append(slices.Clip(path), sel)
			f.declare(p, d.Pos())
			f.walkExpr(d.Value, p)
		case *ast.EmbedDecl:
			f.walkExpr(d.Expr, path)
		}
	}
}

func (f *files) walkExpr(x ast.Expr, path []cue.Selector) {
	switch x := x.(type) {
	case *ast.StructLit:
		f.walkDecls(x.Elts, path)
	case *ast.ListLit:
		for i, el := range x.Elts {
			p := append(slices.Clip(path), cue.Index(i))
			f.declare(p, el.Pos())
			f.walkExpr(el, p)
		}
	case *ast.BinaryExpr:
		if x.Op == token.AND {
			f.walkExpr(x.X, path)
			f.walkExpr(x.Y, path)
		}
	case *ast.ParenExpr:
		f.walkExpr(x.X, path)
	}
}

// declare keeps the earliest declaration in file order: cue/load returns
// the files without a package clause apart from the others.
func (f *files) declare(path []cue.Selector, pos token.Pos) {
	key := cue.MakePath(path...).String()
	if old, ok := f.decls[key]; !ok || comparePos(pos, old) < 0 {
		f.decls[key] = pos
	}
}
