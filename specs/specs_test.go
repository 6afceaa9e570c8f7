package specs

import (
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"

	"github.com/shadowtest/shadowtest/schemas"
)

// vet loads dir as a CUE package, unifies it with the schema's #Spec and
// validates the result as concrete, as `shadowtest vet` does. The error, if
// any, lists every problem with its position.
func vet(t *testing.T, dir string, tags ...string) (cue.Value, error) {
	t.Helper()
	ctx := cuecontext.New()
	schema := ctx.CompileString(schemas.Shadow, cue.Filename(schemas.File))
	if err := schema.Err(); err != nil {
		t.Fatalf("schema: %v", err)
	}
	instances := load.Instances([]string{"."}, &load.Config{Dir: dir, Tags: tags})
	if len(instances) != 1 {
		t.Fatalf("%s: %d CUE instances, want 1", dir, len(instances))
	}
	if err := instances[0].Err; err != nil {
		return cue.Value{}, err
	}
	spec := schema.LookupPath(cue.ParsePath("#Spec")).Unify(ctx.BuildInstance(instances[0]))
	// The schema documents that a target whose url the spec leaves open
	// gets it from #DefaultURL.
	for _, target := range []string{"prod", "shadow"} {
		urlPath := cue.ParsePath("targets." + target + ".url")
		fallback := schema.LookupPath(cue.MakePath(cue.Def("#DefaultURL"), cue.Str(target)))
		if !spec.LookupPath(urlPath).IsConcrete() && fallback.Exists() {
			spec = spec.FillPath(urlPath, fallback)
		}
	}
	return spec, spec.Validate(cue.Concrete(true))
}

// details renders a CUE error with the position of each problem.
func details(err error) string {
	return cueerrors.Details(err, nil)
}

// specDirs lists every directory under specs/ that holds .cue files.
func specDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".cue") {
			if dir := filepath.Dir(path); !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dirs, "demo") {
		t.Fatalf("spec directories %q do not include demo", dirs)
	}
	return dirs
}

// spec is the part of a vetted spec these tests look at.
type spec struct {
	Targets struct {
		Prod, Shadow struct {
			URL string `json:"url"`
		}
	} `json:"targets"`
	Traffic  []map[string]string `json:"traffic"`
	Defaults rules               `json:"defaults"`
	// Endpoints is decoded separately, to keep their order.
	Endpoints map[string]json.RawMessage `json:"endpoints"`
}

type rules struct {
	Method     string                        `json:"method"`
	Path       string                        `json:"path"`
	Ignore     []string                      `json:"ignore"`
	Headers    []string                      `json:"headers"`
	Tolerance  map[string]map[string]float64 `json:"tolerance"`
	Thresholds *struct {
		MatchRate  float64 `json:"matchRate"`
		MinSamples int     `json:"minSamples"`
	} `json:"thresholds"`
}

// endpoint is one spec endpoint with the defaults applied as the schema
// documents: an endpoint's own value replaces the default, whole.
type endpoint struct {
	name string
	rules
}

func decode(t *testing.T, v cue.Value) (spec, []endpoint) {
	t.Helper()
	var s spec
	if err := v.Decode(&s); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	fields, err := v.LookupPath(cue.ParsePath("endpoints")).Fields()
	if err != nil {
		t.Fatal(err)
	}
	var endpoints []endpoint
	for fields.Next() {
		e := endpoint{name: fields.Selector().Unquoted()}
		if err := fields.Value().Decode(&e.rules); err != nil {
			t.Fatalf("endpoint %s: %v", e.name, err)
		}
		if e.Ignore == nil {
			e.Ignore = s.Defaults.Ignore
		}
		if e.Headers == nil {
			e.Headers = s.Defaults.Headers
		}
		if e.Tolerance == nil {
			e.Tolerance = s.Defaults.Tolerance
		}
		if e.Thresholds == nil {
			e.Thresholds = s.Defaults.Thresholds
		}
		endpoints = append(endpoints, e)
	}
	return s, endpoints
}

// TestSpecsVetClean vets every spec directory under specs/ against the
// schema and checks that the traffic files it names exist.
func TestSpecsVetClean(t *testing.T) {
	for _, dir := range specDirs(t) {
		t.Run(dir, func(t *testing.T) {
			v, err := vet(t, dir)
			if err != nil {
				t.Fatalf("vet %s:\n%s", dir, details(err))
			}
			s, endpoints := decode(t, v)
			if len(endpoints) == 0 {
				t.Error("no endpoints")
			}
			for _, source := range s.Traffic {
				for format, path := range source {
					if _, err := os.Stat(filepath.Join(dir, path)); err != nil {
						t.Errorf("traffic %s: %v", format, err)
					}
				}
			}
		})
	}
}

// TestDemoTargetsTakeTags checks that -t prod=URL and -t shadow=URL reach
// the demo's targets, and that the schema's defaults apply without them.
func TestDemoTargetsTakeTags(t *testing.T) {
	for _, tc := range []struct {
		reason       string
		tags         []string
		prod, shadow string
	}{
		{"schema defaults", nil, "http://127.0.0.1:8081", "http://127.0.0.1:8082"},
		{"tags override", []string{"prod=http://127.0.0.1:9001", "shadow=http://127.0.0.1:9002"}, "http://127.0.0.1:9001", "http://127.0.0.1:9002"},
	} {
		v, err := vet(t, "demo", tc.tags...)
		if err != nil {
			t.Fatalf("%s: %s", tc.reason, details(err))
		}
		s, _ := decode(t, v)
		if s.Targets.Prod.URL != tc.prod || s.Targets.Shadow.URL != tc.shadow {
			t.Errorf("%s: prod %q shadow %q, want %q %q", tc.reason, s.Targets.Prod.URL, s.Targets.Shadow.URL, tc.prod, tc.shadow)
		}
	}
}

// TestDemoRulesHandleDifferences checks that the demo spec has the rule for
// each difference listed in fixtures/DIFFERENCES.md, and nothing that would
// hide the regression.
func TestDemoRulesHandleDifferences(t *testing.T) {
	v, err := vet(t, "demo")
	if err != nil {
		t.Fatal(details(err))
	}
	s, endpoints := decode(t, v)
	if !slices.Equal(s.Defaults.Headers, []string{"Content-Type"}) {
		t.Errorf("compared headers %q, want only Content-Type (Date and X-Request-Id are noise)", s.Defaults.Headers)
	}
	want := map[string]struct {
		ignore    []string
		tolerance map[string]map[string]float64
	}{
		"get-user":      {ignore: []string{"$..requestId", "$.links"}},
		"list-products": {ignore: []string{"$..requestId"}},
		"get-product":   {ignore: []string{"$..requestId"}},
		"get-order":     {ignore: []string{"$..requestId"}, tolerance: map[string]map[string]float64{"$.total": {"abs": 0.01}}},
		"health":        {ignore: []string{"$..requestId"}},
	}
	var names []string
	for _, e := range endpoints {
		names = append(names, e.name)
		w, ok := want[e.name]
		if !ok {
			continue
		}
		if !slices.Equal(e.Ignore, w.ignore) {
			t.Errorf("%s: ignore %q, want %q", e.name, e.Ignore, w.ignore)
		}
		if len(e.Tolerance) != len(w.tolerance) || w.tolerance != nil && e.Tolerance["$.total"]["abs"] != w.tolerance["$.total"]["abs"] {
			t.Errorf("%s: tolerance %v, want %v", e.name, e.Tolerance, w.tolerance)
		}
		if e.Thresholds == nil || e.Thresholds.MatchRate < 0.9 {
			t.Errorf("%s: thresholds %+v, want a match rate of at least 0.9 so that the regression fails", e.name, e.Thresholds)
		}
	}
	if len(names) != len(want) {
		t.Errorf("endpoints %q, want %d: get-user, list-products, get-product, get-order, health", names, len(want))
	}
}

// TestDemoTrafficCovered checks that every request of the demo traffic goes
// to an endpoint (the first whose method and path template match) and that
// each endpoint gets at least its minimum sample count.
func TestDemoTrafficCovered(t *testing.T) {
	v, err := vet(t, "demo")
	if err != nil {
		t.Fatal(details(err))
	}
	s, endpoints := decode(t, v)
	if len(s.Traffic) != 1 || s.Traffic[0]["har"] == "" {
		t.Fatalf("traffic %v, want one HAR file", s.Traffic)
	}
	raw, err := os.ReadFile(filepath.Join("demo", s.Traffic[0]["har"]))
	if err != nil {
		t.Fatal(err)
	}
	var har struct {
		Log struct {
			Entries []struct {
				Request struct {
					Method string `json:"method"`
					URL    string `json:"url"`
				} `json:"request"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(raw, &har); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i, entry := range har.Log.Entries {
		u, err := url.Parse(entry.Request.URL)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		name := ""
		for _, e := range endpoints {
			if e.Method == entry.Request.Method && templateMatches(e.Path, u.Path) {
				name = e.name
				break
			}
		}
		if name == "" {
			t.Errorf("entry %d: %s %s matches no endpoint", i, entry.Request.Method, u.Path)
		}
		counts[name]++
	}
	for _, e := range endpoints {
		if min := e.Thresholds.MinSamples; counts[e.name] < min {
			t.Errorf("%s: %d requests in the traffic, below minSamples %d", e.name, counts[e.name], min)
		}
	}
	t.Logf("requests per endpoint: %v", counts)
}

// templateMatches reports whether path matches a template in which {name}
// stands for one non-empty segment.
func templateMatches(template, path string) bool {
	want := strings.Split(strings.Trim(template, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	if len(want) != len(got) {
		return false
	}
	for i, segment := range want {
		if strings.HasPrefix(segment, "{") && strings.HasSuffix(segment, "}") {
			if got[i] == "" {
				return false
			}
		} else if segment != got[i] {
			return false
		}
	}
	return true
}

// TestVetRejectsMistakes checks that the vetting above can fail: each
// broken spec is reported, with a position in the file.
func TestVetRejectsMistakes(t *testing.T) {
	const valid = "package shadow\n\ntraffic: [{har: \"t.har\"}]\n"
	for _, tc := range []struct {
		reason, spec string
		// inSpec: the error points into the spec; a missing field is
		// reported at the schema's declaration instead.
		inSpec bool
	}{
		{"unknown endpoint field", `endpoints: x: {path: "/x", unordered: ["$.a"]}`, true},
		{"path without $", `endpoints: x: {path: "/x", ignore: ["links"]}`, true},
		{"match rate above 1", `defaults: thresholds: matchRate: 1.5`, true},
		{"unknown traffic format", `traffic: [{gor: "x.gor"}]`, true},
		{"endpoint path not absolute", `endpoints: x: path: "x"`, true},
		{"negative tolerance", `endpoints: x: {path: "/x", tolerance: "$.a": abs: -1}`, true},
		{"misspelt top-level field", `endpoint: x: path: "/x"`, true},
		{"missing endpoint path", `endpoints: x: method: "GET"`, false},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(valid+tc.spec+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := vet(t, dir)
		if err == nil {
			t.Errorf("%s: vet accepted %s", tc.reason, tc.spec)
			continue
		}
		if msg := details(err); tc.inSpec && !strings.Contains(msg, "spec.cue:") {
			t.Errorf("%s: error has no position in spec.cue:\n%s", tc.reason, msg)
		}
	}
}
