package compare

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
	"github.com/shadowtest/shadowtest/framework/internal/shape"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// Comparator compares pairs of responses under one endpoint's rules. Build
// it with Compile; the zero Comparator compares status and body with no
// rules. A Comparator is immutable and safe for concurrent use.
type Comparator struct {
	ignore        fieldpath.Set   // body paths whose subtrees are skipped
	ignoreRoot    bool            // ignore holds $: the body is not compared
	ignoreHeaders map[string]bool // canonical names from "header:Name" ignore paths
	headers       []string        // canonical names compared, rule order, no duplicates
	tolerance     fieldpath.Set   // tolerance paths, sorted by their text
	tolerances    []slack         // parallel to tolerance
	unordered     fieldpath.Set   // arrays compared as sets
	unorderedKeys []string        // parallel to unordered: the key member, "" for a multiset
	masks         []mask          // in rule order
	shape         fieldpath.Set   // shape rule paths, sorted by their text
	shapes        []shape.Shape   // parallel to shape
	errorsBy      *fieldpath.Path // non-2xx pairs compare only this subtree
	digestAbove   int64           // bodies larger than this compare by digest (0: never)
	maxDecoded    int64           // cap of a decompressed body
	keyedRules    bool            // some rule path names a keyed-set element
	textTokens    bool            // text bodies compare by line and token
}

// Compile checks and compiles rules. Every path is parsed once; an invalid
// path, a header name that is not an HTTP token, a tolerance on a header or
// a negative tolerance is an error naming it. When several tolerance paths
// match one location, the first in byte order of their text applies.
func Compile(rules framework.Rules) (*Comparator, error) {
	c := &Comparator{}
	var ignore []fieldpath.Path
	for _, text := range rules.Ignore {
		p, err := fieldpath.Parse(text)
		if err != nil {
			return nil, fmt.Errorf("compare: ignore: %w", err)
		}
		if p.IsHeader() {
			if c.ignoreHeaders == nil {
				c.ignoreHeaders = make(map[string]bool)
			}
			c.ignoreHeaders[p.Header()] = true
			continue
		}
		ignore = append(ignore, p)
	}
	c.ignore = fieldpath.NewSet(ignore...)
	c.ignoreRoot = c.ignore.Match(nil)

	seen := make(map[string]bool, len(rules.Headers))
	for _, name := range rules.Headers {
		p, err := fieldpath.Parse("header:" + name)
		if err != nil {
			return nil, fmt.Errorf("compare: headers: %q is not a header name: %w", name, err)
		}
		canonical := p.Header()
		if seen[canonical] || c.ignoreHeaders[canonical] {
			continue
		}
		seen[canonical] = true
		c.headers = append(c.headers, canonical)
	}

	texts := make([]string, 0, len(rules.Tolerance))
	for text := range rules.Tolerance {
		texts = append(texts, text)
	}
	sort.Strings(texts)
	paths := make([]fieldpath.Path, 0, len(texts))
	for _, text := range texts {
		p, err := fieldpath.Parse(text)
		if err != nil {
			return nil, fmt.Errorf("compare: tolerance: %w", err)
		}
		if p.IsHeader() {
			return nil, fmt.Errorf("compare: tolerance %s: tolerance applies to body paths, not headers", text)
		}
		tol := rules.Tolerance[text]
		if !validSlack(tol.Abs) || !validSlack(tol.Rel) {
			return nil, fmt.Errorf("compare: tolerance %s: abs and rel must be finite and >= 0, got abs %s rel %s",
				text, strconv.FormatFloat(tol.Abs, 'g', -1, 64), strconv.FormatFloat(tol.Rel, 'g', -1, 64))
		}
		paths = append(paths, p)
		c.tolerances = append(c.tolerances, newSlack(tol))
	}
	c.tolerance = fieldpath.NewSet(paths...)
	for i, p := range paths {
		c.keyedRules = c.keyedRules || p.HasKeyed()
		c.tolerances[i].skew = rules.Tolerance[texts[i]].Skew
		if c.tolerances[i].skew < 0 {
			return nil, fmt.Errorf("compare: tolerance %s: skew must be >= 0, got %s", texts[i], c.tolerances[i].skew)
		}
	}
	for _, p := range ignore {
		c.keyedRules = c.keyedRules || p.HasKeyed()
	}
	c.textTokens = rules.TextTokens
	if err := c.compileRules(rules); err != nil {
		return nil, err
	}
	return c, nil
}

func validSlack(x float64) bool { return x >= 0 && !math.IsInf(x, 1) }

// MaxDiffs is how many differences of one pair are kept: a pair with more
// keeps its first MaxDiffs (in comparison order) and counts the rest, so
// that a response differing at millions of places costs no more memory
// than one differing at a hundred. Whether the pair matches is exact.
const MaxDiffs = 100

// Compare returns the differences between prod's and the shadow's response,
// or nil when they match under the rules: at most MaxDiffs of them (see
// CompareCounting). A nil response counts as a transport failure.
func (c *Comparator) Compare(prod, shadow *framework.Response) []framework.Diff {
	diffs, _ := c.CompareCounting(prod, shadow)
	return diffs
}

// CompareCounting is Compare that also returns how many differences were
// found beyond the MaxDiffs it keeps.
func (c *Comparator) CompareCounting(prod, shadow *framework.Response) (diffs []framework.Diff, more int) {
	if failed(prod) || failed(shadow) {
		return []framework.Diff{{
			Path:   "response",
			Kind:   framework.KindError,
			Prod:   outcome(prod),
			Shadow: outcome(shadow),
		}}, 0
	}
	if prod.RPC != nil || shadow.RPC != nil {
		if p, s := rpcCode(prod), rpcCode(shadow); p != s {
			return []framework.Diff{{Path: "status", Kind: framework.KindStatus, Prod: p, Shadow: s}}, 0
		}
		diffs = c.compareHeaders(diffs, prod.RPCMetadata(), shadow.RPCMetadata())
		diffs = c.compareBody(diffs, prod, shadow, &more)
		if len(diffs) > MaxDiffs {
			more += len(diffs) - MaxDiffs
			diffs = slices.Clip(diffs[:MaxDiffs])
		}
		return shortenPaths(diffs), more
	}
	if prod.Status != shadow.Status {
		return []framework.Diff{{
			Path:   "status",
			Kind:   framework.KindStatus,
			Prod:   strconv.Itoa(prod.Status),
			Shadow: strconv.Itoa(shadow.Status),
		}}, 0
	}
	diffs = c.compareHeaders(diffs, prod.Header, shadow.Header)
	diffs = c.compareBody(diffs, prod, shadow, &more)
	if len(diffs) > MaxDiffs { // headers and form fields are not capped as they are found
		more += len(diffs) - MaxDiffs
		diffs = slices.Clip(diffs[:MaxDiffs])
	}
	return shortenPaths(diffs), more
}

// maxPathName bounds a member name in a difference's path: a longer one
// is cut to its ends, unless it is secret (see fieldpath.Shorten).
const maxPathName = 128

// shortenPaths bounds the paths of diffs: a shadow answering with a new
// 200 KB member name each time made each of the 200 categories an
// endpoint keeps, their examples and metric labels 200 KB long (100 such
// answers wrote a 26 MB JUnit and a 6 MB /metrics).
func shortenPaths(diffs []framework.Diff) []framework.Diff {
	for i := range diffs {
		if len(diffs[i].Path) > maxPathName {
			diffs[i].Path = fieldpath.Shorten(diffs[i].Path, maxPathName, scrub.Default().Secret)
		}
	}
	return diffs
}

func failed(r *framework.Response) bool { return r == nil || r.Failed() }

// outcome describes one side of a pair with a transport failure.
func outcome(r *framework.Response) string {
	switch {
	case r == nil:
		return "no response"
	case !r.Failed():
		return "status " + rpcCode(r)
	case r.ErrKind != "":
		return clipString(r.ErrKind + ": " + r.Err.Error())
	default:
		return clipString(r.Err.Error())
	}
}

// rpcCode is a response's status as a pair shows it: the gRPC code's name
// ("NOT_FOUND") for an RPC, else the HTTP status.
func rpcCode(r *framework.Response) string {
	if r.RPC != nil {
		return framework.RPCCodeName(r.RPC.Code)
	}
	return strconv.Itoa(r.Status)
}
