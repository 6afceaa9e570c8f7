package observe

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func value(path, prod, shadow string) framework.Diff {
	return framework.Diff{Kind: framework.KindValue, Path: path, Prod: strconv.Quote(prod), Shadow: strconv.Quote(shadow)}
}

func uuid(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i*7919, i) }

func stamp(i int) string { return fmt.Sprintf("2026-11-30T01:%02d:%02d.%03dZ", i%60, (i*7)%60, i%1000) }

// TestApplyNoise feeds probes and pairs to one endpoint and checks the
// decision at each path, which categories stay, and how many pairs count as
// matches once noise is forgiven.
func TestApplyNoise(t *testing.T) {
	tokens := func(n, from int) [][]framework.Diff {
		out := make([][]framework.Diff, n)
		for i := range out {
			out[i] = []framework.Diff{value("$.token", uuid(from+2*i), uuid(from+2*i+1))}
		}
		return out
	}
	with := func(lists [][]framework.Diff, more ...framework.Diff) [][]framework.Diff {
		out := make([][]framework.Diff, len(lists))
		for i, l := range lists {
			out[i] = append(slices.Clone(l), more...)
		}
		return out
	}
	tests := []struct {
		name       string
		probes     [][]framework.Diff // one entry per probe: the prod-vs-prod diffs
		pairs      [][]framework.Diff // one entry per pair: the prod-vs-shadow diffs
		matches    int64
		categories []string
		decisions  map[string]string
		reason     string
	}{
		{name: "uuid always differs", probes: tokens(6, 0), pairs: tokens(10, 100), matches: 10,
			decisions: map[string]string{"$.token": NoiseHidden},
			reason:    "a UUID that changes in every probe and every pair is noise: all pairs match"},
		{name: "regression in a deterministic field", probes: tokens(6, 0),
			pairs:   append(tokens(6, 100), with(tokens(4, 200), value("$.total", "10", "11"))...),
			matches: 6, categories: []string{"value $.total"}, decisions: map[string]string{"$.token": NoiseHidden},
			reason: "the deterministic field never changed between prod answers: never noise, and its pairs do not match"},
		{name: "shadow value outside the learned template",
			probes: [][]framework.Diff{{value("$.req", "req-1234", "req-9876")}, {value("$.req", "req-1111", "req-2222")},
				{value("$.req", "req-3456", "req-3457")}, {value("$.req", "req-5678", "req-8765")}, {value("$.req", "req-0000", "req-0001")}},
			pairs: [][]framework.Diff{{value("$.req", "req-1234", "req-4321")}, {value("$.req", "req-1234", "4321")},
				{value("$.req", "req-5555", "req-12345678")}, {value("$.req", "req-5555", "req-5556")}},
			matches: 2, categories: []string{"shape $.req"}, decisions: map[string]string{"$.req": NoiseHidden},
			reason: `prod's values are "req-" and 4 digits: a shadow value without the prefix or with 8 digits is a shape difference, the others noise`},
		{name: "comparator shape differences count on a noise path", probes: tokens(6, 0),
			pairs: append(tokens(3, 100), []framework.Diff{{Kind: framework.KindShape, Path: "$.token", Prod: strconv.Quote(uuid(1)), Shadow: `"none"`}},
				[]framework.Diff{{Kind: framework.KindShape, Path: "$.token", Prod: strconv.Quote(uuid(2)), Shadow: `"none"`}}),
			matches: 3, categories: []string{"shape $.token"}, decisions: map[string]string{"$.token": NoiseHidden},
			reason: "a UUID replaced by a name is a shape difference even where UUIDs differ anyway"},
		{name: "noisy but far more often against the shadow",
			probes: append(repeatDiffs(5, value("$.cache", "hit", "miss")), repeatDiffs(45)...),
			pairs:  repeatDiffs(20, value("$.cache", "hit", "miss")), matches: 0, categories: []string{"value $.cache"},
			decisions: map[string]string{"$.cache": NoiseCounted},
			reason:    "prod changes it in 5 of 50 probes, the shadow in 20 of 20 pairs: the Fisher test keeps it counted"},
		{name: "too few prod differences", probes: append(repeatDiffs(2, value("$.at", stamp(1), stamp(2))), repeatDiffs(8)...),
			pairs: repeatDiffs(10, value("$.at", stamp(3), stamp(4))), matches: 0, categories: []string{"value $.at"},
			decisions: map[string]string{"$.at": NoiseUndecided},
			reason:    "2 prod differences are fewer than minDiffs (5): undecided, counted"},
		{name: "indices fold", probes: append(repeatDiffs(6, value("$.items[0].at", stamp(1), stamp(2))), repeatDiffs(4)...),
			pairs:   append(repeatDiffs(5, value("$.items[3].at", stamp(3), stamp(4))), repeatDiffs(5)...),
			matches: 10, decisions: map[string]string{"$.items[*].at": NoiseHidden},
			reason: "$.items[*].at changes in 6 of 10 probes and 5 of 10 pairs, timestamps on both sides: noise"},
		{name: "no probes", pairs: tokens(3, 0), matches: 0, categories: []string{"value $.token"},
			reason: "without probes nothing is noise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewResults([]framework.Endpoint{{Name: "e", Noise: framework.Noise{Probe: 0.5}}})
			for _, diffs := range tt.probes {
				r.AddNoise("e", diffs)
			}
			for i, diffs := range tt.pairs {
				r.Add(&framework.Pair{Endpoint: "e", Exchange: framework.Exchange{Origin: fmt.Sprint(i)}, Prod: framework.Response{Status: 200}, Shadow: framework.Response{Status: 200}}, diffs)
			}
			r.ApplyNoise()
			r.ApplyNoise() // once only
			e := r.Endpoint("e")
			if e.Matches != tt.matches {
				t.Errorf("matches %d, want %d (%s)", e.Matches, tt.matches, tt.reason)
			}
			var categories []string
			for _, c := range e.TopCategories(0) {
				categories = append(categories, c.Name)
			}
			slices.Sort(categories)
			decisions := map[string]string{}
			for _, n := range e.NoisePaths() {
				decisions[n.Path] = n.Decision
			}
			if tt.decisions == nil {
				tt.decisions = map[string]string{}
			}
			if fmt.Sprint(categories) != fmt.Sprint(tt.categories) || !reflect.DeepEqual(decisions, tt.decisions) {
				t.Errorf("categories %v, decisions %v; want %v, %v (%s)", categories, decisions, tt.categories, tt.decisions, tt.reason)
			}
			for _, n := range e.NoisePaths() {
				if n.Reason == "" {
					t.Errorf("%s: no reason given for %s", n.Path, n.Decision)
				}
				if n.Decision == NoiseUndecided && n.Count > 0 && n.Settle == 0 {
					t.Errorf("%s: undecided without the probe count that would settle it", n.Path)
				}
			}
		})
	}
}

// TestUndecidedSettle checks the probe count an undecided path reports.
func TestUndecidedSettle(t *testing.T) {
	r := NewResults([]framework.Endpoint{{Name: "e", Noise: framework.Noise{Probe: 1, MinDiffs: 6}}})
	for i := range 12 {
		if i%4 == 0 {
			r.AddNoise("e", []framework.Diff{value("$.origin", "127.0.0.1:40224", "127.0.0.1:40230")})
		} else {
			r.AddNoise("e", nil)
		}
	}
	r.ApplyNoise()
	n := r.Endpoint("e").Noise["$.origin"]
	if n.Decision != NoiseUndecided || n.Settle != 24 || n.Shape != "ipport" {
		t.Errorf("decision %s, settle %d, shape %s; want undecided, 24 probes (6 differences at 3 in 12), ipport", n.Decision, n.Settle, n.Shape)
	}
}

// TestRedactedTemplateKeepsNoText: a learned template at a redacted path
// (an array element's field included) shows no literal text: a shared
// prefix of secrets could give them away.
func TestRedactedTemplateKeepsNoText(t *testing.T) {
	r := NewResults([]framework.Endpoint{{Name: "e", Noise: framework.Noise{Probe: 1}}})
	r.Redact = func(path, value string) string {
		if strings.HasSuffix(path, ".secret") && strings.Contains(path, "[0]") {
			return "[REDACTED]"
		}
		return value
	}
	for i := range 6 {
		r.AddNoise("e", []framework.Diff{value("$.items[2].secret", fmt.Sprintf("sk-live-%04d", i), fmt.Sprintf("sk-live-%04d", i+50))})
	}
	r.ApplyNoise()
	n := r.Endpoint("e").Noise["$.items[*].secret"]
	if n == nil || strings.Contains(n.Shape, "sk-") || strings.Contains(n.Rule, "sk-") {
		t.Errorf("the learned shape of a redacted path shows its text: %+v", n)
	}
}

// TestFisherGreater checks the test against values computed by hand
// (hypergeometric upper tails).
func TestFisherGreater(t *testing.T) {
	tests := []struct {
		x, m, k, n int64
		want       float64
		reason     string
	}{
		{10, 10, 10, 10, 1, "both always differ: no evidence the shadow differs more"},
		{0, 10, 5, 10, 1, "the shadow never differs"},
		// P(X >= 3) for 20 items, 4 successes, 10 drawn: (C(4,3)C(16,7)+C(4,4)C(16,6))/C(20,10) = (4*11440+8008)/184756
		{3, 10, 1, 10, (4*11440 + 8008) / 184756.0, "hand-computed tail"},
	}
	for _, tt := range tests {
		if got := FisherGreater(tt.x, tt.m, tt.k, tt.n); got < tt.want-1e-9 || got > tt.want+1e-9 {
			t.Errorf("FisherGreater(%d, %d, %d, %d) = %g, want %g (%s)", tt.x, tt.m, tt.k, tt.n, got, tt.want, tt.reason)
		}
	}
}

// TestNoiseDecisionsIgnoreOrder is a property test: for random traffic and
// random noise, the decisions, counts, categories and examples are a pure
// function of the observed responses. The same probes and pairs, fed in
// random orders from concurrent goroutines, give identical results.
func TestNoiseDecisionsIgnoreOrder(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 7))
		probes, pairs := randomTraffic(rng, seed == 0)
		want := noiseOutcome(t, probes, pairs, nil, 1)
		if seed == 0 && !strings.Contains(want, "evidence level 1") {
			t.Fatalf("seed 0 should have so many patterns that the evidence is coarsened:\n%s", want)
		}
		for round := range 3 {
			shuffle := rand.New(rand.NewPCG(seed, uint64(round)+100))
			if got := noiseOutcome(t, probes, pairs, shuffle, 4); got != want {
				t.Fatalf("seed %d, order %d: decisions differ with the order of arrival\nfirst:\n%s\nshuffled:\n%s", seed, round, want, got)
			}
		}
	}
}

type event struct {
	probe  bool
	origin string
	diffs  []framework.Diff
}

// randomTraffic draws probes and pairs over a few paths whose values are
// UUIDs, timestamps, host:port, tokens with a prefix, integers, or fixed
// values that the shadow sometimes changes. many makes the fits so varied
// that the evidence must be coarsened.
func randomTraffic(rng *rand.Rand, many bool) (probes, pairs []event) {
	gens := []func(i int) string{
		uuid, stamp,
		func(i int) string { return "127.0.0.1:" + strconv.Itoa(40000+i%1000) },
		func(i int) string { return "tok-" + strconv.FormatInt(int64(i*i+7), 36) },
		func(i int) string { return strconv.Itoa(i * 13) },
		func(int) string { return "fixed" },
	}
	paths := []string{"$.id", "$.at", "$.origin", "$.token", "$.n[0].v", "$.n[1].v", "$.fixed"}
	rates := make([]float64, len(paths))
	for i := range rates {
		rates[i] = rng.Float64()
	}
	nProbes, nPairs := 5+rng.IntN(40), 5+rng.IntN(80)
	if many {
		nPairs = 2 * maxCategorySets
	}
	draw := func(probe bool, i int) event {
		ev := event{probe: probe, origin: fmt.Sprintf("t.jsonl:%d", i)}
		for p, path := range paths {
			if rng.Float64() >= rates[p] {
				continue
			}
			gen := gens[p%len(gens)]
			prod, shadow := gen(rng.IntN(5000)), gen(rng.IntN(5000))
			switch {
			case many:
				shadow = strconv.Itoa(i) + shadow[:rng.IntN(len(shadow)+1)]
			case !probe && rng.IntN(6) == 0:
				shadow = shadow[:rng.IntN(len(shadow)+1)] // a shadow that changes the shape
			}
			if prod == shadow {
				continue
			}
			kind := framework.KindValue
			if rng.IntN(10) == 0 {
				kind = framework.KindShape
			}
			ev.diffs = append(ev.diffs, framework.Diff{Kind: kind, Path: path, Prod: strconv.Quote(prod), Shadow: strconv.Quote(shadow)})
		}
		return ev
	}
	for i := range nProbes {
		probes = append(probes, draw(true, i))
	}
	for i := range nPairs {
		pairs = append(pairs, draw(false, i))
	}
	return probes, pairs
}

// noiseOutcome feeds the events (shuffled when rng is set, by workers
// goroutines) and renders everything noise learning decided.
func noiseOutcome(t *testing.T, probes, pairs []event, rng *rand.Rand, workers int) string {
	t.Helper()
	events := append(slices.Clone(probes), pairs...)
	if rng != nil {
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	}
	r := NewResults([]framework.Endpoint{{Name: "e", Noise: framework.Noise{Probe: 0.5, MinDiffs: 3}}})
	feed := make(chan event)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ev := range feed {
				if ev.probe {
					r.AddNoise("e", ev.diffs)
					continue
				}
				r.Add(&framework.Pair{Endpoint: "e", Exchange: framework.Exchange{Origin: ev.origin},
					Prod: framework.Response{Status: 200}, Shadow: framework.Response{Status: 200}}, ev.diffs)
			}
		})
	}
	for _, ev := range events {
		feed <- ev
	}
	close(feed)
	wg.Wait()
	r.ApplyNoise()
	e := r.Endpoint("e")
	out := fmt.Sprintf("pairs %d matches %d denoised %d probes %d evidence level %d\n", e.Pairs, e.Matches, e.Denoised, e.Probes, e.noise.level)
	for _, c := range e.TopCategories(0) {
		out += fmt.Sprintf("category %s %d %s %+v\n", c.Name, c.Count, c.Origin, c.Example)
	}
	for _, n := range e.NoisePaths() {
		out += fmt.Sprintf("noise %+v\n", *n)
	}
	return out
}

// repeatDiffs returns n copies of the diff list.
func repeatDiffs(n int, diffs ...framework.Diff) [][]framework.Diff {
	out := make([][]framework.Diff, n)
	for i := range out {
		out[i] = diffs
	}
	return out
}
