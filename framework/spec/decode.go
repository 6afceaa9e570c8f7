package spec

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"cuelang.org/go/cue"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/envref"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// The raw types mirror the schema for cue.Value.Decode. Pointers mark the
// optional fields, whose absence matters when merging with defaults.
type (
	rawTarget struct {
		URL     string            `json:"url"`
		Timeout string            `json:"timeout"`
		Headers map[string]string `json:"headers"`
		Retries int               `json:"retries"`
	}
	rawTraffic struct {
		HAR   *string `json:"har"`
		JSONL *string `json:"jsonl"`
	}
	rawMirror struct {
		Concurrency  int    `json:"concurrency"`
		Writes       string `json:"writes"`
		MaxBodyBytes int64  `json:"maxBodyBytes"`
	}
	rawRules struct {
		Method     string                   `json:"method"`
		Path       string                   `json:"path"`
		GRPC       string                   `json:"grpc"`
		Idempotent bool                     `json:"idempotent"`
		Safe       bool                     `json:"safe"`
		Ignore     *[]string                `json:"ignore"`
		Headers    *[]string                `json:"headers"`
		Tolerance  *map[string]rawTolerance `json:"tolerance"`
		Thresholds *rawThresholds           `json:"thresholds"`
		// Comparison rules of issue 3, decoded in rules.go.
		Unordered   *[]any          `json:"unordered"`
		Masks       *[]any          `json:"masks"`
		Errors      *rawErrors      `json:"errors"`
		DigestAbove *int64          `json:"digestAbove"`
		Noise       *rawNoise       `json:"noise"`
		Shape       *map[string]any `json:"shape"`
		Known       *[]rawKnown     `json:"known"`
	}
	rawReport struct {
		Redact         []string              `json:"redact"`
		Secrets        framework.SecretNames `json:"secrets"`
		Examples       int                   `json:"examples"`
		BaselineMargin float64               `json:"baselineMargin"`
	}
	rawTolerance struct {
		Abs  float64 `json:"abs"`
		Rel  float64 `json:"rel"`
		Skew string  `json:"skew"`
	}
	rawThresholds struct {
		MatchRate  *float64 `json:"matchRate"`
		MinSamples *int     `json:"minSamples"`
	}
)

// decode turns a valid, concrete spec value into a plan and runs the checks
// the schema cannot express.
func (l *loader) decode(value cue.Value) (*framework.Plan, error) {
	d := decoder{loader: l, value: value, problems: l.hiddenKeys(value)}
	plan := &framework.Plan{Dir: l.dir, Package: l.pkg, LeftOut: l.leftOut}
	plan.Prod = d.target("prod")
	plan.Shadow = d.target("shadow")
	plan.Traffic = d.traffic()
	var mirror rawMirror
	d.get(&mirror, nil, cue.Str("mirror"))
	plan.Mirror = framework.Mirror{Concurrency: mirror.Concurrency, Writes: mirror.Writes, MaxBodyBytes: mirror.MaxBodyBytes}
	d.mirrorLimits(&plan.Mirror)
	plan.Endpoints = d.endpoints()
	d.mirrorModes(&plan.Mirror, plan.Endpoints)
	d.targetRewrites(&plan.Prod)
	d.targetRewrites(&plan.Shadow)
	d.grpc(plan)
	d.recordedNoise(plan)
	var report rawReport
	if d.get(&report, nil, cue.Str("report")) {
		plan.Report = framework.ReportSettings{Redact: report.Redact, Secrets: report.Secrets, Examples: report.Examples, BaselineMargin: report.BaselineMargin}
	}
	d.checkPaths()
	if err := newError(d.problems); err != nil {
		return nil, err
	}
	return plan, nil
}

type decoder struct {
	*loader
	value    cue.Value
	problems []Problem
}

func (d *decoder) report(path []cue.Selector, pos framework.Position, format string, args ...any) {
	d.problems = append(d.problems, Problem{Pos: pos, Path: cue.MakePath(path...).String(), Message: fmt.Sprintf(format, args...)})
}

// get decodes the value at path into x; a failure (not expected after
// validation) becomes a problem.
func (d *decoder) get(x any, from *cue.Value, path ...cue.Selector) bool {
	v := d.value
	if from != nil {
		v = *from
	}
	if err := v.LookupPath(cue.MakePath(path...)).Decode(x); err != nil {
		d.problems = append(d.problems, d.loader.problems(err)...)
		return false
	}
	return true
}

// pos is where path is declared in the user's files, else where CUE puts its
// value if that is a user file, else the zero position.
func (d *decoder) pos(path ...cue.Selector) framework.Position {
	if p, ok := d.declared(cue.MakePath(path...)); ok {
		return d.position(p)
	}
	if p := d.value.LookupPath(cue.MakePath(path...)).Pos(); d.isUser(p) {
		return d.position(p)
	}
	return framework.Position{}
}

func (d *decoder) target(name string) framework.Target {
	path := []cue.Selector{cue.Str("targets"), cue.Str(name)}
	var raw rawTarget
	if !d.get(&raw, nil, path...) {
		return framework.Target{Name: name}
	}
	if override, ok := d.targets[name]; ok {
		raw.URL = override // checked with the -t flags
	} else if problem := targetURLProblem(raw.URL); problem != "" && raw.URL != "" {
		at := append(path, cue.Str("url"))
		d.report(at, d.pos(at...), "%s: %s", scrub.URL(raw.URL), problem)
	}
	timeoutPath := append(path, cue.Str("timeout"))
	timeout, err := time.ParseDuration(raw.Timeout)
	switch {
	case err != nil:
		d.report(timeoutPath, d.pos(timeoutPath...), "%s", durationMessage(strconv.Quote(raw.Timeout)))
	case timeout <= 0:
		d.report(timeoutPath, d.pos(timeoutPath...), "timeout must be greater than zero, got %q", raw.Timeout)
	}
	if len(raw.Headers) == 0 {
		raw.Headers = nil
	}
	for header, value := range raw.Headers {
		if refused := envref.Refused(value); len(refused) > 0 {
			at := append(path, cue.Str("headers"), cue.Str(header))
			if envref.Withheld(refused[0]) {
				d.report(at, d.pos(at...), "%s reads the environment variable %s, which holds the live proxy's admin token: no spec may read it", header, refused[0])
				continue
			}
			d.report(at, d.pos(at...), "%s reads the environment variable %s, which a spec may not read: "+
				"a spec reads SHADOW_* and SHADOWTEST_* variables and those the CI job lists in %s (set it in the job, not in the spec)",
				header, refused[0], envref.AllowVar)
			continue
		}
		if name := envref.Nested(value); name != "" {
			at := append(path, cue.Str("headers"), cue.Str(header))
			d.report(at, d.pos(at...), "%s: the default of ${%s:-...} holds a \"$\": a default is literal text, a reference in it is not expanded "+
				"(requests would carry the text \"${...}\" when %s is unset); write one reference, or set the variable in the step that runs shadowtest",
				header, name, name)
			continue
		}
		if !d.send {
			continue
		}
		for _, name := range envref.Required(value) {
			if os.Getenv(name) == "" {
				at := append(path, cue.Str("headers"), cue.Str(header))
				d.report(at, d.pos(at...), "%s reads %s, which is unset or empty here: every request would carry it empty, and two targets "+
					"refusing it alike would match (a pull request from a fork gets no secrets); set it in the step that runs shadowtest, "+
					"or write ${%s:-} (or ${%s:-default}) when empty is meant",
					header, name, name, name)
				break
			}
		}
	}
	return framework.Target{Name: name, URL: raw.URL, Timeout: timeout, Headers: raw.Headers, Retries: raw.Retries}
}

func (d *decoder) traffic() []framework.TrafficSource {
	var raw []rawTraffic
	if !d.get(&raw, nil, cue.Str("traffic")) {
		return nil
	}
	sources := make([]framework.TrafficSource, 0, len(raw))
	for i, t := range raw {
		source := framework.TrafficSource{Pos: d.pos(cue.Str("traffic"), cue.Index(i))}
		switch {
		case t.HAR != nil:
			source.Format, source.Path = "har", *t.HAR
		case t.JSONL != nil:
			source.Format, source.Path = "jsonl", *t.JSONL
		default:
			d.trafficSource(i, &source)
		}
		path := []cue.Selector{cue.Str("traffic"), cue.Index(i), cue.Str(source.Format)}
		if source.Format != "synthetic" && !d.live {
			d.checkTrafficPath(path, source)
		}
		sources = append(sources, source)
	}
	return sources
}
