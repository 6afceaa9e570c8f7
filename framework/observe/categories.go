package observe

import (
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// MaxCategories is how many discrepancy categories one endpoint keeps.
// Differences of categories first seen after that are counted under
// OtherCategory: a shadow inventing a new path in every response cannot
// grow the aggregates, the results file, the JUnit or the HTML report.
const MaxCategories = 200

// OtherCategory counts the differing pairs that showed a category beyond
// MaxCategories; its example is the first such difference.
const OtherCategory = "other (categories beyond the first 200)"

// FoldAfter is how many distinct member names one path keeps in category
// names, per kind of difference: once a parent path ($.meta) has shown
// differences of one kind under this many names, differences of that kind
// under any new name fold into the wildcard, "extra
// $.meta.x7f3" becoming "extra $.meta.*". Random keys invented by a shadow
// end up in one category instead of one each.
const FoldAfter = 32

// maxNames bounds the member names remembered per endpoint for folding;
// beyond it every new name folds.
const maxNames = 8192

// names remembers, per parent path, the member names that category names
// keep.
type names struct {
	children map[string]map[string]struct{}
	count    int
	// folded caches the folded form of category names seen (at most
	// maxNames): folding decisions never change once made, and the same
	// paths differ pair after pair.
	folded map[string]string
}

// keep reports whether the member name under parent stays in category
// names, remembering it if there is room.
func (n *names) keep(parent, name string) bool {
	if n.children == nil {
		n.children = map[string]map[string]struct{}{}
	}
	kids := n.children[parent]
	if _, ok := kids[name]; ok {
		return true
	}
	if len(kids) >= FoldAfter || n.count >= maxNames {
		return false
	}
	if kids == nil {
		kids = map[string]struct{}{}
		n.children[parent] = kids
	}
	kids[name] = struct{}{}
	n.count++
	return true
}

// category names the category of d for this endpoint: the kind and the
// path with indices and surplus member names folded, or OtherCategory once
// MaxCategories are kept.
func (e *Endpoint) category(d framework.Diff, kept *names) string {
	name := kept.fold(d.Category())
	if _, ok := e.Categories[name]; !ok && len(e.Categories) >= MaxCategories {
		return OtherCategory
	}
	return name
}

// fold returns a category name with surplus member names folded.
func (n *names) fold(name string) string {
	if folded, ok := n.folded[name]; ok {
		return folded
	}
	folded := name
	if kind, path, ok := strings.Cut(name, " "); ok && strings.HasPrefix(path, "$") {
		// Names are remembered per kind: random extra keys fill "extra $"
		// and leave "value $.price" its name.
		keep := func(parent, member string) bool { return n.keep(kind+" "+parent, member) }
		if p := fieldpath.FoldKeys(path, keep); p != path {
			folded = kind + " " + p
		}
	}
	if n.folded == nil {
		n.folded = map[string]string{}
	}
	if len(n.folded) < maxNames {
		n.folded[name] = folded
	}
	return folded
}
