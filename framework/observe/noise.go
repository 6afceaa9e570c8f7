package observe

import (
	"slices"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// NoiseFactor is how much more often the shadow may differ from prod at a
// noise path than prod differs from itself before the differences count
// against the shadow after all: a regression hiding in a noisy field is
// still reported.
const NoiseFactor = 2.0

// maxCategorySets bounds the distinct category sets kept per endpoint;
// pairs beyond it cannot be counted as matches by noise learning.
const maxCategorySets = 4096

// AddNoise records one noise probe of the named endpoint: the differences
// between two prod answers to the same request (none when they matched).
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
		path := framework.FoldIndices(d.Path)
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
				continue // a prod inventing paths: the first ones are enough to learn from
			}
			n = &NoisePath{Path: path, Rule: path}
			e.Noise[path] = n
		}
		n.Count++
	}
}

// noteCategorySet counts a differing pair under its set of categories, for
// endpoints with a noise probe.
func (e *Endpoint) noteCategorySet(seen map[string]bool) {
	if e.Spec == nil || e.Spec.Noise.Probe <= 0 || len(seen) == 0 {
		return
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	key := strings.Join(names, "\n")
	if e.CategorySets == nil {
		e.CategorySets = map[string]int64{}
	}
	if _, ok := e.CategorySets[key]; ok || len(e.CategorySets) < maxCategorySets {
		e.CategorySets[key]++
	}
}

// ApplyNoise ends noise learning, once, after the last pair: a path where
// prod differed from itself is noise unless the shadow differed there more
// than NoiseFactor times as often (per pair, against per probe). Categories
// at noise paths are removed, and pairs whose every difference was at a
// noise path count as matches (Denoised). Paths that stay reported are
// marked Reported.
func (r *Results) ApplyNoise() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.Endpoints {
		e.applyNoise()
	}
}

func (e *Endpoint) applyNoise() {
	if e.noiseApplied || e.Probes == 0 {
		return
	}
	e.noiseApplied = true
	shadowCounts := map[string]int64{}
	for name, c := range e.Categories {
		path := categoryPath(name)
		shadowCounts[path] = max(shadowCounts[path], c.Count)
	}
	hidden := map[string]bool{}
	for path, n := range e.Noise {
		n.Shadow = shadowCounts[path]
		prodRate := float64(n.Count) / float64(e.Probes)
		shadowRate := 0.0
		if e.Pairs > 0 {
			shadowRate = float64(n.Shadow) / float64(e.Pairs)
		}
		n.Reported = shadowRate > NoiseFactor*prodRate
		if !n.Reported {
			hidden[path] = true
		}
	}
	for set, count := range e.CategorySets {
		forgiven := true
		for name := range strings.SplitSeq(set, "\n") {
			if !hidden[categoryPath(name)] {
				forgiven = false
				break
			}
		}
		if forgiven {
			e.Matches += count
			e.Denoised += count
		}
	}
	for name := range e.Categories {
		if hidden[categoryPath(name)] {
			delete(e.Categories, name)
		}
	}
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
