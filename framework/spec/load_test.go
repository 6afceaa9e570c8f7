package spec

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func loadGood(t *testing.T, name string, opt Options) *framework.Plan {
	t.Helper()
	plan, err := Load(filepath.Join("testdata", "good", name), opt)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return plan
}

func endpointNames(plan *framework.Plan) []string {
	var names []string
	for _, e := range plan.Endpoints {
		names = append(names, e.Name)
	}
	return names
}

func at(file string, line, col int) framework.Position {
	return framework.Position{File: filepath.Join("testdata", "good", file), Line: line, Col: col}
}

func TestLoadFull(t *testing.T) {
	plan := loadGood(t, "full", Options{})
	if plan.Dir != filepath.Join("testdata", "good", "full") {
		t.Errorf("Dir = %q", plan.Dir)
	}
	wantProd := framework.Target{Name: "prod", URL: "http://127.0.0.1:9001", Timeout: 5 * time.Second, Retries: 2}
	if !reflect.DeepEqual(plan.Prod, wantProd) {
		t.Errorf("Prod = %+v, want %+v (schema default timeout and retries)", plan.Prod, wantProd)
	}
	wantShadow := framework.Target{Name: "shadow", URL: "http://127.0.0.1:9002/v2", Timeout: 1500 * time.Millisecond,
		Headers: map[string]string{"Authorization": "Bearer ${SHADOW_TOKEN}"}, Retries: 0}
	if !reflect.DeepEqual(plan.Shadow, wantShadow) {
		t.Errorf("Shadow = %+v, want %+v", plan.Shadow, wantShadow)
	}
	wantTraffic := []framework.TrafficSource{
		{Format: "har", Path: "traffic/shop.har", Pos: at("full/targets.cue", 13, 2)},
		{Format: "jsonl", Path: "traffic/extra.jsonl", Pos: at("full/targets.cue", 14, 2)},
	}
	if !reflect.DeepEqual(plan.Traffic, wantTraffic) {
		t.Errorf("Traffic = %+v, want %+v", plan.Traffic, wantTraffic)
	}
	got := plan.Mirror
	if got.Concurrency != 16 || got.Writes != "isolated" || got.MaxBodyBytes != 10485760 {
		t.Errorf("Mirror = %+v, want concurrency 16, writes isolated, maxBodyBytes 10485760 (schema default)", got)
	}
	if got.Mode != "full" || got.Rate != 1 || got.Seed != 0 || got.Speed != 1 || got.Endpoints != nil ||
		got.DryRunHeader != [2]string{"X-Shadow-Dry-Run", "true"} {
		t.Errorf("Mirror = %+v, want the schema's mode defaults (full, rate 1, seed 0, speed 1, X-Shadow-Dry-Run: true)", got)
	}
}

// TestDefaults checks how endpoints inherit from defaults: ignore, headers
// and tolerance are replaced wholesale, thresholds one field at a time.
func TestDefaults(t *testing.T) {
	plan := loadGood(t, "full", Options{})
	defaultTolerance := map[string]framework.Tolerance{"$.total": {Abs: 0.01}}
	users := "full/users.cue"
	want := []framework.Endpoint{{
		Name: "get-user", Method: "GET", Path: "/users/{id}", Pos: at(users, 14, 12),
		Rules: framework.Rules{
			Ignore:    []string{"header:Date", "$..requestId"},
			Headers:   []string{"Content-Type"},
			Tolerance: defaultTolerance,
		},
		Thresholds: framework.Thresholds{MatchRate: 0.999, MinSamples: 50, MatchRatePos: at(users, 8, 3),
			ErrorRate: true, ErrorRatePos: at(users, 14, 12), LatencyP50Pos: at(users, 14, 12), LatencyP99Monitored: true, LatencyP99Pos: at(users, 14, 12)},
	}, {
		Name: "list-users", Method: "GET", Path: "/users", Pos: at(users, 20, 12),
		Rules: framework.Rules{
			Ignore:    []string{"$.items[*].lastLogin"},
			Headers:   []string{"Content-Type"},
			Tolerance: defaultTolerance,
		},
		Thresholds: framework.Thresholds{MatchRate: 0.95, MinSamples: 50, MatchRatePos: at(users, 23, 14),
			ErrorRate: true, ErrorRatePos: at(users, 20, 12), LatencyP50Pos: at(users, 20, 12), LatencyP99Monitored: true, LatencyP99Pos: at(users, 20, 12)},
	}, {
		Name: "create-user", Method: "POST", Path: "/users", Pos: at(users, 27, 12),
		Rules: framework.Rules{
			Ignore:    []string{"header:Date", "$..requestId"},
			Headers:   []string{},
			Tolerance: map[string]framework.Tolerance{"$.balance": {Rel: 0.001}},
		},
		Thresholds: framework.Thresholds{MatchRate: 0.999, MinSamples: 5, MatchRatePos: at(users, 8, 3),
			ErrorRate: true, ErrorRatePos: at(users, 27, 12), LatencyP50Pos: at(users, 27, 12), LatencyP99Monitored: true, LatencyP99Pos: at(users, 27, 12)},
	}}
	if len(plan.Endpoints) != len(want) {
		t.Fatalf("endpoints = %v, want 3", endpointNames(plan))
	}
	for i := range want {
		if !reflect.DeepEqual(plan.Endpoints[i], want[i]) {
			t.Errorf("endpoint %d:\n got %+v\nwant %+v", i, plan.Endpoints[i], want[i])
		}
	}
}

// TestOrder checks that endpoints keep their declaration order within a file
// and follow the files' name order across files.
func TestOrder(t *testing.T) {
	got := endpointNames(loadGood(t, "order", Options{}))
	want := []string{"z-first", "m-second", "c-third", "a-fourth"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestNoPackageClause(t *testing.T) {
	plan := loadGood(t, "nopackage", Options{})
	if got := endpointNames(plan); !reflect.DeepEqual(got, []string{"get-user"}) {
		t.Errorf("endpoints = %v", got)
	}
	if want := at("nopackage/spec.cue", 2, 12); plan.Endpoints[0].Pos != want {
		t.Errorf("Pos = %v, want %v", plan.Endpoints[0].Pos, want)
	}
	// No url in the spec and no -t: the schema's #DefaultURL.
	if plan.Prod.URL != "http://127.0.0.1:8081" || plan.Shadow.URL != "http://127.0.0.1:8082" {
		t.Errorf("urls = %q, %q, want the #DefaultURL ones", plan.Prod.URL, plan.Shadow.URL)
	}
}

func TestTargetOverrides(t *testing.T) {
	tests := []struct {
		reason     string
		spec       string
		targets    map[string]string
		prod       string
		shadow     string
		prodHeader string // shadow's X-Prod-URL header, computed from the prod url
	}{{
		reason: "a spec default of its own wins over #DefaultURL",
		spec:   "tag", prod: "http://localhost:8081", shadow: "http://127.0.0.1:8082", prodHeader: "http://localhost:8081",
	}, {
		reason:  "-t on a field with @tag sets the tag, so values computed from it follow",
		spec:    "tag",
		targets: map[string]string{"prod": "https://prod.example:8443"},
		prod:    "https://prod.example:8443", shadow: "http://127.0.0.1:8082", prodHeader: "https://prod.example:8443",
	}, {
		reason:  "-t replaces a url the spec sets without @tag",
		spec:    "full",
		targets: map[string]string{"shadow": "http://10.0.0.2:8080"},
		prod:    "http://127.0.0.1:9001", shadow: "http://10.0.0.2:8080",
	}, {
		reason:  "-t fills a url the spec leaves open",
		spec:    "nopackage",
		targets: map[string]string{"prod": "http://a:1", "shadow": "http://b:2"},
		prod:    "http://a:1", shadow: "http://b:2",
	}, {
		// An escaped space in the path prefix was refused as white space
		// (redteam9): each request's path is joined to it as text.
		reason:  "a path prefix with an escaped space",
		spec:    "full",
		targets: map[string]string{"shadow": "http://10.0.0.2:8080/my%20app"},
		prod:    "http://127.0.0.1:9001", shadow: "http://10.0.0.2:8080/my%20app",
	}}
	for _, tt := range tests {
		plan := loadGood(t, tt.spec, Options{Targets: tt.targets})
		if plan.Prod.URL != tt.prod || plan.Shadow.URL != tt.shadow || plan.Shadow.Headers["X-Prod-URL"] != tt.prodHeader {
			t.Errorf("%s: prod %q shadow %q header %q, want %q %q %q", tt.reason,
				plan.Prod.URL, plan.Shadow.URL, plan.Shadow.Headers["X-Prod-URL"], tt.prod, tt.shadow, tt.prodHeader)
		}
	}
}

func TestBadTargetOverrides(t *testing.T) {
	tests := []struct {
		targets map[string]string
		want    string
	}{
		{map[string]string{"prod": "localhost:8081"}, `targets.prod.url: invalid -t prod="localhost:8081" (want an http:// or https:// URL with a host)`},
		{map[string]string{"shadow": "ftp://x"}, `targets.shadow.url: invalid -t shadow="ftp://x" (want an http:// or https:// URL with a host)`},
		{map[string]string{"shadow": "http://"}, `targets.shadow.url: invalid -t shadow="http://" (want an http:// or https:// URL with a host)`},
		{map[string]string{"staging": "http://x"}, `targets.staging: unknown target "staging" in -t (want prod or shadow)`},
		// A query or fragment sent every request to the URL's own path:
		// both targets answered GET / alike and the gate passed on nothing.
		{map[string]string{"prod": "http://10.0.0.5:8080/?code=k3y"}, `targets.prod.url: invalid -t prod="http://10.0.0.5:8080/?…": a target URL takes no query (each request keeps its own): send a key the target needs as a header (targets.<name>.headers)`},
		{map[string]string{"shadow": "http://10.0.0.6:8080/v2#top"}, `targets.shadow.url: invalid -t shadow="http://10.0.0.6:8080/v2?…": a target URL takes no fragment (#...)`},
		{map[string]string{"shadow": "http://:8080"}, `targets.shadow.url: invalid -t shadow="http://:8080": the URL has no host name`},
		{map[string]string{"prod": "http://10.0.0.5:80800"}, `targets.prod.url: invalid -t prod="http://10.0.0.5:80800": port 80800 is not a TCP port (1 to 65535)`},
		{map[string]string{"prod": "http://10.0.0.5:8080/my app"}, `targets.prod.url: invalid -t prod="http://10.0.0.5:8080/my app": the URL's path holds white space`},
	}
	for _, tt := range tests {
		_, err := Load(filepath.Join("testdata", "good", "tag"), Options{Targets: tt.targets})
		var specErr *Error
		if !errors.As(err, &specErr) || err.Error() != tt.want {
			t.Errorf("Load with -t %v: %v, want %s", tt.targets, err, tt.want)
		}
	}
}

// TestImport checks that a spec can import the schema and build on its
// definitions, with no registry and no cue.mod of its own.
func TestImport(t *testing.T) {
	plan := loadGood(t, "import", Options{})
	if got := endpointNames(plan); !reflect.DeepEqual(got, []string{"get-user", "get-order"}) {
		t.Fatalf("endpoints = %v", got)
	}
	getUser, getOrder := plan.Endpoints[0], plan.Endpoints[1]
	if getUser.Thresholds.MatchRate != 0.9 || getUser.Thresholds.MinSamples != 20 {
		t.Errorf("get-user thresholds = %+v, want matchRate 0.9 and minSamples 20 from defaults", getUser.Thresholds)
	}
	if getOrder.Thresholds.MatchRate != 0.99 || getOrder.Thresholds.MinSamples != 20 {
		t.Errorf("get-order thresholds = %+v, want the schema's matchRate 0.99 and minSamples 20", getOrder.Thresholds)
	}
	if want := at("import/spec.cue", 11, 12); getUser.Pos != want {
		t.Errorf("get-user Pos = %v, want %v", getUser.Pos, want)
	}
	if want := at("import/spec.cue", 13, 14); getUser.Thresholds.MatchRatePos != want {
		t.Errorf("get-user MatchRatePos = %v, want %v", getUser.Thresholds.MatchRatePos, want)
	}
	// No matchRate anywhere in the user's files: the endpoint's own position.
	if getOrder.Thresholds.MatchRatePos != getOrder.Pos {
		t.Errorf("get-order MatchRatePos = %v, want its Pos %v", getOrder.Thresholds.MatchRatePos, getOrder.Pos)
	}
}

func TestMissingDirectory(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "nowhere"), Options{})
	if err == nil || err.Error() != filepath.Join("testdata", "nowhere")+": spec directory not found" {
		t.Errorf("err = %v", err)
	}
}

func TestSchema(t *testing.T) {
	if !strings.Contains(Schema(), "#Spec:") {
		t.Error("Schema() does not hold #Spec")
	}
	// Every pattern description must find its line, or messages fall back
	// to raw regular expressions.
	if got := len(patternLines()); got != len(patterns) {
		t.Errorf("found %d of %d schema patterns", got, len(patterns))
	}
}

// TestMixedPackageClauses checks that files with and without a package
// clause make one spec, ordered by file name whatever cue/load's grouping.
func TestMixedPackageClauses(t *testing.T) {
	plan := loadGood(t, "mixed", Options{})
	if got := endpointNames(plan); !reflect.DeepEqual(got, []string{"get-user", "list-users"}) {
		t.Fatalf("endpoints = %v", got)
	}
	getUser := plan.Endpoints[0]
	if want := at("mixed/a.cue", 3, 12); getUser.Pos != want {
		t.Errorf("Pos = %v, want the first declaration %v", getUser.Pos, want)
	}
	if want := at("mixed/b.cue", 3, 36); getUser.Thresholds.MatchRate != 0.5 || getUser.Thresholds.MatchRatePos != want {
		t.Errorf("thresholds = %+v, want matchRate 0.5 at %v", getUser.Thresholds, want)
	}
}

// TestHiddenHelpersAllowed checks that hidden fields and definitions used
// as CUE helpers (not as keys of a map) load, and that a quoted "_page"
// is a real query predicate.
func TestHiddenHelpersAllowed(t *testing.T) {
	plan := loadGood(t, "hidden_helpers", Options{})
	if len(plan.Endpoints) != 1 {
		t.Fatalf("endpoints = %v, want [list-items]", endpointNames(plan))
	}
	e := plan.Endpoints[0]
	if len(e.Query) != 1 || e.Query[0].Name != "_page" || !e.Query[0].Present {
		t.Errorf("query predicates = %+v, want _page present", e.Query)
	}
	if e.Rules.Tolerance["$.price"].Abs != 0.01 {
		t.Errorf("tolerance = %+v, want $.price abs 0.01", e.Rules.Tolerance)
	}
}
