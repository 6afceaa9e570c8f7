package observe

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/shape"
)

// NoiseConfidence is the confidence of the test that keeps a noisy path
// counted: the path is noise only when a one-sided Fisher exact test does
// not show, at this confidence, that the shadow differs there (with values
// of prod's shape) more often than prod differs from itself.
const NoiseConfidence = 0.95

// The noise decisions of a path.
const (
	// NoiseHidden: the path is noise; only shape differences count.
	NoiseHidden = "noise"
	// NoiseCounted: the shadow differs there more often than prod does.
	NoiseCounted = "counted"
	// NoiseUndecided: too little evidence; the differences count.
	NoiseUndecided = "undecided"
)

// maxCategorySets bounds the distinct difference patterns kept per
// endpoint for noise learning, and maxLearnedPaths the paths whose prod
// values are learned. Beyond them, evidence is coarsened or dropped the
// same way whatever the order the pairs arrived in.
const (
	maxCategorySets = 4096
	maxLearnedPaths = 1024
)

// Separators inside a CategorySets key: entries are joined by entrySep,
// and an entry is a category name, fitSep and the shadow value's Fit.
const (
	entrySep = "\n"
	fitSep   = "\x1f"
)

// noiseLevel says how much of each shadow value CategorySets keeps.
const (
	levelFull   = iota // the whole Fit
	levelCoarse        // the Fit without lengths
	levelNone          // overflow: nothing; no path can be decided
)

// noiseState is the bounded, order-independent evidence for noise
// decisions of one endpoint.
type noiseState struct {
	level    int
	learners map[string]*shape.Learner // folded path → prod's values
	overflow bool                      // more than maxLearnedPaths paths
	examples map[string]Category       // entry → smallest example
}

// noisePathOK reports whether differences at path can ever be noise: body
// values, headers and the tokens or lines of a text body ("body:3:2"),
// never the status, a transport failure or a whole body.
func noisePathOK(path string) bool {
	return strings.HasPrefix(path, "$") || strings.HasPrefix(path, "header:") || strings.HasPrefix(path, "body:")
}

// sides returns prod's and the shadow's values of a difference.
func sides(d framework.Diff) (prod, shadow shape.Value) {
	header := strings.HasPrefix(d.Path, "header:")
	switch d.Kind {
	case framework.KindSize, framework.KindOrder:
		return shape.Value{Kind: shape.Other}, shape.Value{Kind: shape.Other}
	case framework.KindMissing:
		return shape.FromDisplay(d.Prod, header), shape.Value{Kind: shape.Absent}
	case framework.KindExtra:
		return shape.Value{Kind: shape.Absent}, shape.FromDisplay(d.Shadow, header)
	}
	return shape.FromDisplay(d.Prod, header), shape.FromDisplay(d.Shadow, header)
}

// learn adds a prod value seen at the folded path.
func (e *Endpoint) learn(path string, v shape.Value) {
	s := &e.noise
	if s.overflow {
		return
	}
	l := s.learners[path]
	if l == nil {
		if len(s.learners) >= maxLearnedPaths {
			s.overflow, s.learners = true, nil
			return
		}
		if s.learners == nil {
			s.learners = map[string]*shape.Learner{}
		}
		l = &shape.Learner{}
		s.learners[path] = l
	}
	l.Add(v)
}

// noiseOn reports whether the endpoint learns noise.
func (e *Endpoint) noiseOn() bool { return e.Spec != nil && e.Spec.Noise.Probe > 0 }

// AddNoise records one noise probe of the named endpoint: the differences
// between two prod answers to the same request (none when they matched).
// Both answers are prod's values: the shape learns from both.
func (r *Results) AddNoise(endpoint string, diffs []framework.Diff) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.byName[endpoint]
	if e == nil {
		return
	}
	e.Probes++
	seen := make(map[string]bool, len(diffs))
	for _, d := range diffs {
		if !noisePathOK(d.Path) {
			continue
		}
		path := framework.FoldIndices(d.Path)
		first, second := sides(d)
		e.learn(path, first)
		e.learn(path, second)
		if seen[path] {
			continue
		}
		seen[path] = true
		if e.Noise == nil {
			e.Noise = map[string]*NoisePath{}
		}
		n := e.Noise[path]
		if n == nil {
			if len(e.Noise) >= MaxCategories {
				// A prod inventing paths: stop learning. Which paths got in
				// depends on order, so nothing is decided (see applyNoise).
				e.noise.overflow = true
				continue
			}
			n = &NoisePath{Path: path}
			e.Noise[path] = n
		}
		n.Count++
	}
}

// noteCategorySet counts a differing pair under its difference pattern,
// for endpoints with a noise probe, and learns prod's values from it. An
// entry of the pattern is a category and, for a difference that noise may
// forgive, what the shadow's value looked like (shape.Fit).
func (e *Endpoint) noteCategorySet(pair *framework.Pair, diffs []framework.Diff, redact func(path, value string) string) {
	if !e.noiseOn() || len(diffs) == 0 {
		return
	}
	entries := make([]string, 0, len(diffs))
	for _, d := range diffs {
		entry := d.Category()
		if noisePathOK(d.Path) {
			prod, shadow := sides(d)
			e.learn(framework.FoldIndices(d.Path), prod)
			if d.Kind != framework.KindShape {
				fit := shape.Relate(prod, shadow)
				if e.noise.level == levelCoarse {
					fit = fit.Coarsen()
				}
				entry += fitSep + fit.String()
				e.noteExample(entry, d, pair.Exchange.Origin, redact)
			}
		}
		entries = append(entries, entry)
	}
	if e.noise.level == levelNone {
		return
	}
	slices.Sort(entries)
	key := strings.Join(slices.Compact(entries), entrySep)
	if e.CategorySets == nil {
		e.CategorySets = map[string]int64{}
	}
	e.CategorySets[key]++
	if len(e.CategorySets) > maxCategorySets {
		e.coarsen()
	}
}

// noteExample keeps, for each entry, the example with the smallest origin:
// the same one whatever order the pairs arrive in.
func (e *Endpoint) noteExample(entry string, d framework.Diff, origin string, redact func(path, value string) string) {
	s := &e.noise
	old, ok := s.examples[entry]
	if ok && !exampleBefore(origin, d.Path, &old) {
		return
	}
	if !ok && len(s.examples) >= maxCategorySets {
		return // bounded like CategorySets; coarsen resets it
	}
	if redact != nil {
		d.Prod, d.Shadow = redact(d.Path, d.Prod), redact(d.Path, d.Shadow)
	}
	if s.examples == nil {
		s.examples = map[string]Category{}
	}
	s.examples[entry] = Category{Example: d, Origin: origin}
}

// coarsen moves CategorySets one level down: from whole Fits to Fits
// without lengths, or from those to nothing. The level reached depends
// only on how many distinct patterns the whole traffic has, not on order.
func (e *Endpoint) coarsen() {
	s := &e.noise
	for len(e.CategorySets) > maxCategorySets && s.level < levelNone {
		s.level++
		if s.level == levelNone {
			e.CategorySets, s.examples = nil, nil
			return
		}
		sets := make(map[string]int64, len(e.CategorySets))
		for key, count := range e.CategorySets {
			entries := strings.Split(key, entrySep)
			for i, entry := range entries {
				entries[i] = coarseEntry(entry)
			}
			slices.Sort(entries)
			sets[strings.Join(slices.Compact(entries), entrySep)] += count
		}
		e.CategorySets = sets
		examples := make(map[string]Category, len(s.examples))
		for entry, ex := range s.examples {
			coarse := coarseEntry(entry)
			if old, ok := examples[coarse]; !ok || exampleBefore(ex.Origin, ex.Example.Path, &old) {
				examples[coarse] = ex
			}
		}
		s.examples = examples
	}
}

func coarseEntry(entry string) string {
	name, fitText, ok := strings.Cut(entry, fitSep)
	if !ok {
		return entry
	}
	fit, ok := shape.ParseFit(fitText)
	if !ok {
		return entry
	}
	return name + fitSep + fit.Coarsen().String()
}

// ApplyNoise ends noise learning, once, after the last pair, and decides
// each path where prod differed from itself (see decide). At a noise path,
// differences whose shadow value fits prod's learned shape no longer count,
// the others become "shape" differences; pairs left with no counted
// difference count as matches (Denoised). The decisions depend only on the
// observed responses, never on the order they arrived in.
func (r *Results) ApplyNoise() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.Endpoints {
		e.applyNoise(r.Redact)
	}
}

func (e *Endpoint) applyNoise(redact func(path, value string) string) {
	if e.noiseApplied || e.Probes == 0 || len(e.Noise) == 0 {
		return
	}
	e.noiseApplied = true
	minDiffs := int64(framework.DefaultNoiseMinDiffs)
	if e.Spec != nil && e.Spec.Noise.MinDiffs > 0 {
		minDiffs = int64(e.Spec.Noise.MinDiffs)
	}
	shapes := map[string]shape.Shape{}
	for path, n := range e.Noise {
		if l := e.noise.learners[path]; l != nil {
			s := l.Shape(literalOK(path, l, redact))
			shapes[path] = s
			n.Shape = s.String()
			n.Rule, n.Writable = s.Rule()
		}
	}
	// Per noise path: pairs whose shadow differed there only with values
	// of prod's shape (fit), and pairs with a value outside it (misfit).
	fit, misfit := map[string]int64{}, map[string]int64{}
	for key, count := range e.CategorySets {
		for path, fits := range pairPaths(key, e.Noise, shapes) {
			if fits {
				fit[path] += count
			} else {
				misfit[path] += count
			}
		}
	}
	hidden := map[string]bool{}
	for path, n := range e.Noise {
		n.Shadow, n.Misfit = fit[path], misfit[path]
		_, learned := shapes[path]
		n.decide(e.Probes, e.Pairs, minDiffs, learned && e.noise.level != levelNone && !e.noise.overflow)
		if n.Decision == NoiseHidden {
			hidden[path] = true
		}
	}
	for key, count := range e.CategorySets {
		forgiven := true
		for _, entry := range strings.Split(key, entrySep) {
			path, fits := entryFits(entry, e.Noise, shapes)
			if !hidden[path] || !fits {
				forgiven = false
				break
			}
		}
		if forgiven {
			e.Matches += count
			e.Denoised += count
		}
	}
	e.reshape(hidden, shapes)
}

// reshape replaces the categories of hidden noise paths by one "shape"
// category counting the pairs whose shadow value left prod's shape.
func (e *Endpoint) reshape(hidden map[string]bool, shapes map[string]shape.Shape) {
	comparatorShape := map[string]*Category{}
	for name, c := range e.Categories {
		path := categoryPath(name)
		if !hidden[path] {
			continue
		}
		if c.Example.Kind == framework.KindShape {
			comparatorShape[path] = c
		}
		delete(e.Categories, name)
	}
	for path := range hidden {
		n := e.Noise[path]
		if n.Misfit == 0 {
			continue
		}
		c := &Category{Name: string(framework.KindShape) + " " + path, Count: n.Misfit}
		for entry, ex := range e.noise.examples {
			if p, fits := entryFits(entry, e.Noise, shapes); p == path && !fits && (c.Origin == "" || exampleBefore(ex.Origin, ex.Example.Path, c)) {
				c.Example, c.Origin = ex.Example, ex.Origin
			}
		}
		if c.Origin == "" {
			// Only shape differences found by the comparator: their own
			// category had the example.
			if old := comparatorShape[path]; old != nil {
				c.Example, c.Origin = old.Example, old.Origin
			}
		}
		c.Example.Kind = framework.KindShape
		e.Categories[c.Name] = c
	}
}

// pairPaths returns, for one difference pattern, each noise path it
// touches and whether all its differences there fit prod's shape.
func pairPaths(key string, noise map[string]*NoisePath, shapes map[string]shape.Shape) map[string]bool {
	out := map[string]bool{}
	for _, entry := range strings.Split(key, entrySep) {
		path, fits := entryFits(entry, noise, shapes)
		if _, ok := noise[path]; !ok {
			continue
		}
		if old, ok := out[path]; ok {
			fits = fits && old
		}
		out[path] = fits
	}
	return out
}

// entryFits returns an entry's folded path and whether its shadow value
// fits the shape learned there. A shape difference, or one with no value
// kept, never fits.
func entryFits(entry string, noise map[string]*NoisePath, shapes map[string]shape.Shape) (path string, fits bool) {
	name, fitText, hasFit := strings.Cut(entry, fitSep)
	path = categoryPath(name)
	if !hasFit {
		return path, false
	}
	s, ok := shapes[path]
	if !ok {
		return path, false
	}
	f, ok := shape.ParseFit(fitText)
	return path, ok && s.Admits(f)
}

// literalOK reports whether a learned template may show its fixed text:
// not at a redacted path, nor when the text holds a secret.
func literalOK(path string, l *shape.Learner, redact func(path, value string) string) bool {
	if redact == nil {
		return true
	}
	// Redaction matches concrete locations: a folded [*] stands for any
	// element, the first will do.
	path = strings.ReplaceAll(path, "[*]", "[0]")
	return redact(path, l.Prefix) == l.Prefix && redact(path, l.Suffix) == l.Suffix && redact(path, "x") == "x"
}

// decide sets the path's decision from its counts: probes sent to prod
// twice and how many showed the path (Count), pairs compared and how many
// differed there with values of prod's shape (Shadow). The path is noise
// when prod differed from itself in at least minDiffs probes and a
// one-sided Fisher exact test at NoiseConfidence does not reject "the
// shadow differs there no more often than prod". With fewer than minDiffs,
// it is undecided and Settle estimates the probes that would reach
// minDiffs at prod's observed rate.
func (n *NoisePath) decide(probes, pairs, minDiffs int64, learned bool) {
	n.Settle, n.PValue = 0, 0
	switch {
	case !learned:
		n.Decision = NoiseUndecided
		n.Reason = "too many distinct paths or difference patterns to learn from: counted"
	case n.Count < minDiffs:
		n.Decision = NoiseUndecided
		n.Settle = (minDiffs*probes + n.Count - 1) / n.Count
		n.Reason = fmt.Sprintf("prod differed in %d of %d probes, fewer than the %d needed: counted; about %d probes would settle it",
			n.Count, probes, minDiffs, n.Settle)
	default:
		n.PValue = FisherGreater(n.Shadow, pairs, n.Count, probes)
		if n.PValue < 1-NoiseConfidence {
			n.Decision = NoiseCounted
			n.Reason = fmt.Sprintf("the shadow differs there more often than prod itself (%d of %d pairs against %d of %d probes; one-sided Fisher exact p = %.2g < %.2g): counted",
				n.Shadow, pairs, n.Count, probes, n.PValue, 1-NoiseConfidence)
		} else {
			n.Decision = NoiseHidden
			n.Reason = fmt.Sprintf("prod differed in %d of %d probes, the shadow in %d of %d pairs with values of prod's shape (p = %.2g): noise",
				n.Count, probes, n.Shadow, pairs, n.PValue)
		}
	}
	n.Reported = n.Decision != NoiseHidden
}

// FisherGreater is the one-sided p-value of Fisher's exact test that the
// rate x/m is greater than k/n: the probability, under the hypothesis that
// both come from the same rate, of x or more of the x+k successes falling
// in the first sample (hypergeometric upper tail).
func FisherGreater(x, m, k, n int64) float64 {
	if m <= 0 || n <= 0 || x <= 0 {
		return 1
	}
	total, successes := m+n, x+k
	logChoose := func(a, b int64) float64 {
		la, _ := math.Lgamma(float64(a + 1))
		lb, _ := math.Lgamma(float64(b + 1))
		lc, _ := math.Lgamma(float64(a - b + 1))
		return la - lb - lc
	}
	norm := logChoose(total, m)
	p := 0.0
	for i := x; i <= min(m, successes); i++ {
		term := math.Exp(logChoose(successes, i) + logChoose(total-successes, m-i) - norm)
		p += term
		if term < p*1e-15 {
			break // the tail decreases past the mode; the rest is negligible
		}
	}
	return min(p, 1)
}

// categoryPath is the folded path of a category name ("value $.a[*].b").
func categoryPath(name string) string {
	_, path, _ := strings.Cut(name, " ")
	return path
}

// NoisePaths returns the endpoint's noise paths in path order.
func (e *Endpoint) NoisePaths() []*NoisePath {
	out := make([]*NoisePath, 0, len(e.Noise))
	for _, n := range e.Noise {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *NoisePath) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// mergeNoise adds other's noise-learning counts into e. Each shard has
// already applied its noise; the merged counts are for reading.
func (e *Endpoint) mergeNoise(other *Endpoint) {
	e.Probes += other.Probes
	e.Denoised += other.Denoised
	for set, count := range other.CategorySets {
		if e.CategorySets == nil {
			e.CategorySets = map[string]int64{}
		}
		e.CategorySets[set] += count
	}
}
