package spec

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue/ast"
	cueformat "cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/shadowtest/shadowtest/schemas"
)

// Reference renders the schema's documentation as Markdown: one section per
// definition, one row per field with its constraint (defaults marked with
// *) and its doc comment. schemas/REFERENCE.md's spec reference is this text, checked
// by a test to be current.
func Reference() (string, error) {
	file, err := parser.ParseFile(schemas.File, schemas.Shadow, parser.ParseComments)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, decl := range file.Decls {
		field, ok := decl.(*ast.Field)
		if !ok {
			continue
		}
		name, _, _ := ast.LabelName(field.Label)
		fmt.Fprintf(&b, "### `%s`\n\n%s\n", name, paragraph(docOf(field)))
		body, ok := field.Value.(*ast.StructLit)
		if !ok {
			fmt.Fprintf(&b, "```cue\n%s: %s\n```\n\n", name, source(field.Value))
			continue
		}
		var rows []string
		var embedded []string
		referenceRows(body, "", &rows, &embedded)
		if len(embedded) > 0 {
			fmt.Fprintf(&b, "Includes every field of %s.\n\n", strings.Join(embedded, ", "))
		}
		if len(rows) > 0 {
			b.WriteString("| field | constraint | meaning |\n|---|---|---|\n")
			for _, row := range rows {
				b.WriteString(row)
			}
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

// referenceRows adds a row per field of body, descending into nested
// struct literals with dotted names.
func referenceRows(body *ast.StructLit, prefix string, rows, embedded *[]string) {
	for _, elt := range body.Elts {
		switch elt := elt.(type) {
		case *ast.EmbedDecl:
			if prefix == "" {
				*embedded = append(*embedded, "`"+source(elt.Expr)+"`")
			}
		case *ast.Field:
			name := prefix + labelText(elt)
			optional := ""
			if elt.Constraint == token.OPTION {
				optional = "?"
			}
			if nested, ok := elt.Value.(*ast.StructLit); ok && hasFields(nested) {
				*rows = append(*rows, fmt.Sprintf("| %s | struct | %s |\n", code(name+optional), cell(docOf(elt))))
				referenceRows(nested, name+".", rows, embedded)
				continue
			}
			*rows = append(*rows, fmt.Sprintf("| %s | %s | %s |\n", code(name+optional), code(cell(source(elt.Value))), cell(docOf(elt))))
		}
	}
}

func hasFields(s *ast.StructLit) bool {
	for _, elt := range s.Elts {
		if _, ok := elt.(*ast.Field); ok {
			return true
		}
	}
	return false
}

func labelText(f *ast.Field) string {
	if name, _, err := ast.LabelName(f.Label); err == nil {
		return name
	}
	return source(f.Label)
}

// docOf is the doc comment above a node, without the comment markers.
func docOf(n ast.Node) string {
	var lines []string
	for _, group := range ast.Comments(n) {
		if !group.Doc {
			continue
		}
		for _, c := range group.List {
			lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(c.Text, "//"), " "))
		}
	}
	return strings.Join(lines, "\n")
}

func source(n ast.Node) string {
	out, err := cueformat.Node(n, cueformat.Simplify())
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// paragraph keeps a doc comment's paragraphs and indented blocks.
func paragraph(doc string) string {
	if doc == "" {
		return ""
	}
	return doc + "\n"
}

// cell makes text fit in one Markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// code formats text as a Markdown code span, with a longer fence when the
// text holds a backtick.
func code(s string) string {
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}
