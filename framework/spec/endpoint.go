package spec

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/token"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/selector"
)

// endpoints decodes the endpoints in declaration order, files in name order,
// and merges each with the spec's defaults.
//
// CUE's own field order (Fields) is a topological sort that does not keep
// file order: `endpoints: {...}` in b.cue can come before `endpoints: x:`
// in a.cue. Since the first matching endpoint wins, the order must be the
// one a reader sees, so endpoints are sorted by where they are first
// declared; endpoints CUE computes (comprehensions) follow in CUE's order.
func (d *decoder) endpoints() []framework.Endpoint {
	var defaults rawRules
	if !d.get(&defaults, nil, cue.Str("defaults")) {
		return nil
	}
	iter, err := d.value.LookupPath(cue.MakePath(cue.Str("endpoints"))).Fields()
	if err != nil {
		d.problems = append(d.problems, d.loader.problems(err)...)
		return nil
	}
	var (
		endpoints []framework.Endpoint
		declared  = map[string]token.Pos{}
	)
	for iter.Next() {
		value := iter.Value()
		var raw rawRules
		if d.get(&raw, &value) {
			endpoint := d.endpoint(iter.Selector(), raw, defaults)
			d.match(&endpoint, value)
			if p, ok := d.declared(cue.MakePath(cue.Str("endpoints"), iter.Selector())); ok {
				declared[endpoint.Name] = p
			}
			endpoints = append(endpoints, endpoint)
		}
	}
	slices.SortStableFunc(endpoints, func(a, b framework.Endpoint) int {
		pa, aok := declared[a.Name]
		pb, bok := declared[b.Name]
		switch {
		case aok && bok:
			return comparePos(pa, pb)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	d.shadowedEndpoints(endpoints)
	d.sameJUnitClass(endpoints)
	if len(endpoints) == 0 && len(d.problems) == 0 {
		pos := d.pos(cue.Str("endpoints"))
		if pos.File == "" {
			pos.File = d.dir
		}
		d.report([]cue.Selector{cue.Str("endpoints")}, pos,
			`no endpoints: declare at least one, for example endpoints: "get-user": {method: "GET", path: "/users/{id}"}`)
	}
	return endpoints
}

// templateProblem says what in a path template is matched literally though
// it was surely meant as a parameter or a wildcard ("/users/:id",
// "/files/*", "/files/{name}.json", selector.SegmentProblem): the endpoint
// would get no request and fail every run as insufficient traffic; "" when
// nothing is.
func templateProblem(template string) string {
	for _, seg := range strings.Split(template, "/") {
		if problem := selector.SegmentProblem(seg); problem != "" {
			return problem
		}
	}
	return ""
}

// sameJUnitClass reports two endpoints whose names differ only by "."
// against "_" ("get.user", "get_user"): the JUnit puts both in one class
// (framework.JUnitClass), and GitLab and Jenkins show their cases as one
// endpoint's.
func (d *decoder) sameJUnitClass(endpoints []framework.Endpoint) {
	first := map[string]*framework.Endpoint{}
	for i := range endpoints {
		e := &endpoints[i]
		class := framework.JUnitClass(e.Name)
		if earlier, ok := first[class]; ok {
			d.report([]cue.Selector{cue.Str("endpoints"), cue.Str(e.Name)}, e.Pos,
				"endpoint %s and %s (%s) would be one JUnit class, shadowtest.%s (dots become _): rename one",
				strconv.Quote(e.Name), strconv.Quote(earlier.Name), earlier.Pos, class)
			continue
		}
		first[class] = e
	}
}

// pathParam is a {name} segment of a path template; its name does not
// change what the template matches.
var pathParam = regexp.MustCompile(`\{[^}/]*\}`)

// shadowedEndpoints reports an HTTP endpoint that can never get a request:
// an earlier one (files in name order, then source order) has the same
// method and path template, parameter names aside, and no match predicate,
// and a request goes to the first endpoint that matches. Two files
// declaring one endpoint under two names passed vet, and the second failed
// every run as insufficient traffic.
func (d *decoder) shadowedEndpoints(endpoints []framework.Endpoint) {
	first := map[string]*framework.Endpoint{}
	for i := range endpoints {
		e := &endpoints[i]
		if e.GRPC != "" || e.Path == "" {
			continue
		}
		key := e.Method + " " + pathParam.ReplaceAllString(e.Path, "{}")
		if earlier, ok := first[key]; ok {
			d.report([]cue.Selector{cue.Str("endpoints"), cue.Str(e.Name)}, e.Pos,
				"endpoint %s never gets a request: %s (%s) comes first with the same method and path and no match predicate; "+
					"give one of them a match predicate, or keep one", strconv.Quote(e.Name), strconv.Quote(earlier.Name), earlier.Pos)
			continue
		}
		if len(e.Query) == 0 && len(e.Header) == 0 {
			first[key] = e
		}
	}
}

func (d *decoder) endpoint(name cue.Selector, raw, defaults rawRules) framework.Endpoint {
	path := []cue.Selector{cue.Str("endpoints"), name}
	e := framework.Endpoint{
		Name:   label(name),
		Method: strings.ToUpper(raw.Method),
		Path:   raw.Path,
		Pos:    d.pos(path...),
	}
	d.endpointKind(&e, path, raw)
	if problem := nameProblem(e.Name); problem != "" {
		d.report(path, e.Pos, "endpoint %s %s", strconv.Quote(e.Name), problem)
	}
	e.Rules = framework.Rules{
		Ignore:    *or(raw.Ignore, defaults.Ignore),
		Headers:   *or(raw.Headers, defaults.Headers),
		Tolerance: tolerances(*or(raw.Tolerance, defaults.Tolerance)),
	}
	d.comparisonRules(&e, path, raw, defaults)
	own, inherited := raw.Thresholds, defaults.Thresholds
	if own == nil {
		own = &rawThresholds{}
	}
	if inherited == nil { // not after validation: defaults.thresholds has defaults
		inherited = &rawThresholds{MatchRate: new(float64), MinSamples: new(int)}
	}
	e.Thresholds = framework.Thresholds{
		MatchRate:  *or(own.MatchRate, inherited.MatchRate),
		MinSamples: *or(own.MinSamples, inherited.MinSamples),
	}
	matchRate := []cue.Selector{cue.Str("thresholds"), cue.Str("matchRate")}
	e.Thresholds.MatchRatePos = e.Pos
	if own.MatchRate != nil {
		e.Thresholds.MatchRatePos = orPos(d.pos(append(path, matchRate...)...), e.Pos)
	} else if p := d.pos(append([]cue.Selector{cue.Str("defaults")}, matchRate...)...); p.File != "" {
		e.Thresholds.MatchRatePos = p
	}
	d.latencyThresholds(path, &e.Thresholds, e.Pos)
	return e
}

// or returns the first non-nil pointer, or a pointer to the zero value.
func or[T any](values ...*T) *T {
	for _, v := range values {
		if v != nil {
			return v
		}
	}
	return new(T)
}

func orPos(p, fallback framework.Position) framework.Position {
	if p.File == "" {
		return fallback
	}
	return p
}

func tolerances(raw map[string]rawTolerance) map[string]framework.Tolerance {
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]framework.Tolerance, len(raw))
	for path, t := range raw {
		skew, _ := time.ParseDuration(t.Skew) // the schema checked the syntax
		out[path] = framework.Tolerance{Abs: t.Abs, Rel: t.Rel, Skew: skew}
	}
	return out
}

// reservedNames are shadowtest's own test groups in the JUnit and the
// summary (suite.RunGroup, suite.AlsoGroup).
var reservedNames = []string{"run", "also"}

// nameProblem says what is wrong with an endpoint name, or "".
func nameProblem(name string) string {
	if strings.TrimSpace(name) == "" {
		return "is empty or blank: the summary, the JUnit and the results would show the endpoint without a name: name it"
	}
	if slices.Contains(reservedNames, name) {
		return "has the name of shadowtest's own test group in the JUnit and the summary (the replay's own test would count as the endpoint's): rename it"
	}
	for _, r := range name {
		if unicode.IsControl(r) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 {
			return "has a control or bidi character, which would rewrite what a terminal or a CI page shows around it: rename it"
		}
	}
	return ""
}

// endpointKind checks that the endpoint is either HTTP (path) or gRPC
// (grpc), and fills a gRPC endpoint's method and path.
func (d *decoder) endpointKind(e *framework.Endpoint, path []cue.Selector, raw rawRules) {
	at := func(field string) []cue.Selector { return append(append([]cue.Selector{}, path...), cue.Str(field)) }
	if raw.GRPC == "" {
		if raw.Path == "" {
			d.report(at("path"), orPos(d.pos(at("path")...), e.Pos), "required field not set (path for an HTTP endpoint, or grpc for a gRPC one)")
		}
		if problem := templateProblem(raw.Path); problem != "" {
			d.report(at("path"), orPos(d.pos(at("path")...), e.Pos), "%s", problem)
		}
		for _, field := range []string{"idempotent", "safe"} {
			if _, ok := d.declared(cue.MakePath(at(field)...)); ok {
				d.report(at(field), d.pos(at(field)...), "%s applies to gRPC endpoints; for HTTP the method says it", field)
			}
		}
		return
	}
	for _, field := range []string{"path", "method"} {
		if _, ok := d.declared(cue.MakePath(at(field)...)); ok {
			d.report(at(field), d.pos(at(field)...), "a gRPC endpoint (grpc: %q) has no %s: remove it", raw.GRPC, field)
		}
	}
	e.GRPC = raw.GRPC
	e.Method, e.Path = "POST", "/"+raw.GRPC
	e.Idempotent, e.Safe = raw.Idempotent || raw.Safe, raw.Safe
}
