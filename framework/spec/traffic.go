package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// This file decodes what issue 4 added to the schema: the traffic formats
// beyond HAR and JSONL (GoReplay, synthetic), the mirror modes and write
// policies, per-target rewrites and recorded prod, and endpoint match
// predicates. Synthetic traffic is decoded into plain Go types here, the
// only package that imports CUE; framework/internal/synth expands it.

type (
	rawMirrorModes struct {
		DryRunHeader string   `json:"dryRunHeader"`
		Mode         string   `json:"mode"`
		Rate         *float64 `json:"rate"`
		Seed         uint64   `json:"seed"`
		Endpoints    []string `json:"endpoints"`
		Speed        float64  `json:"speed"`
	}
	rawTargetRewrites struct {
		RemoveHeaders []string `json:"removeHeaders"`
		PathPrefix    *struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"pathPrefix"`
		Recorded bool    `json:"recorded"`
		TLS      *rawTLS `json:"tls"`
	}
)

// mirrorModes decodes the mode, sampling and write policy settings into
// mirror and checks what the schema cannot: a sampled mode needs a rate, a
// selective mode names endpoints that exist.
func (d *decoder) mirrorModes(mirror *framework.Mirror, endpoints []framework.Endpoint) {
	var raw rawMirrorModes
	if !d.get(&raw, nil, cue.Str("mirror")) {
		return
	}
	name, value, _ := strings.Cut(raw.DryRunHeader, ":")
	mirror.DryRunHeader = [2]string{strings.TrimSpace(name), strings.TrimSpace(value)}
	mirror.Mode, mirror.Seed, mirror.Endpoints, mirror.Speed = raw.Mode, raw.Seed, raw.Endpoints, raw.Speed
	mirror.Rate = 1
	if raw.Rate != nil {
		mirror.Rate = *raw.Rate
	}
	modePath := []cue.Selector{cue.Str("mirror"), cue.Str("mode")}
	switch raw.Mode {
	case "sampled":
		if raw.Rate == nil {
			d.report(modePath, orPos(d.pos(modePath...), d.pos(cue.Str("mirror"))),
				`mode "sampled" needs a rate, for example mirror: {mode: "sampled", rate: 0.1}`)
		}
	case "selective":
		if len(raw.Endpoints) == 0 {
			d.report(modePath, orPos(d.pos(modePath...), d.pos(cue.Str("mirror"))),
				`mode "selective" needs endpoints, for example mirror: {mode: "selective", endpoints: ["get-user"]}`)
		}
	}
	known := make([]string, len(endpoints))
	for i, e := range endpoints {
		known[i] = e.Name
	}
	for i, name := range raw.Endpoints {
		if !slices.Contains(known, name) {
			path := []cue.Selector{cue.Str("mirror"), cue.Str("endpoints"), cue.Index(i)}
			message := fmt.Sprintf("no endpoint named %q", name)
			if guess := closest(name, known); guess != "" {
				message += fmt.Sprintf(" (did you mean %q?)", guess)
			}
			d.report(path, orPos(d.pos(path...), d.pos(cue.Str("mirror"), cue.Str("endpoints"))), "%s", message)
		}
	}
}

// targetRewrites decodes a target's rewrites and recorded flag.
func (d *decoder) targetRewrites(target *framework.Target) {
	path := []cue.Selector{cue.Str("targets"), cue.Str(target.Name)}
	var raw rawTargetRewrites
	if !d.get(&raw, nil, path...) {
		return
	}
	if len(raw.RemoveHeaders) > 0 {
		target.RemoveHeaders = raw.RemoveHeaders
	}
	if raw.PathPrefix != nil {
		target.PathPrefix = framework.PathRewrite{From: raw.PathPrefix.From, To: raw.PathPrefix.To}
	}
	target.Recorded = raw.Recorded
	d.targetTLS(target, raw.TLS)
	if raw.Recorded && target.Name != "prod" {
		recorded := append(path, cue.Str("recorded"))
		d.report(recorded, orPos(d.pos(recorded...), d.pos(path...)),
			"only prod can answer from the recording: the shadow is the system under test")
	}
}

// recordedNoise reports a noise probe that cannot run: a recorded prod
// cannot be asked twice, and a silent no-op would leave the noise counted
// with nothing to say why.
func (d *decoder) recordedNoise(plan *framework.Plan) {
	if !plan.Prod.Recorded {
		return
	}
	reported := map[string]bool{}
	for _, e := range plan.Endpoints {
		if e.Noise.Probe <= 0 {
			continue
		}
		at := []cue.Selector{cue.Str("endpoints"), cue.Str(e.Name), cue.Str("noise")}
		if !d.value.LookupPath(cue.MakePath(at...)).Exists() || d.pos(at...).File == "" {
			at = []cue.Selector{cue.Str("defaults"), cue.Str("noise")}
		}
		key := cue.MakePath(at...).String()
		if reported[key] {
			continue
		}
		reported[key] = true
		d.report(at, orPos(d.pos(at...), e.Pos),
			"noise.probe needs a live prod, but targets.prod.recorded is true: prod cannot be asked twice; remove the noise probe, or run against a live prod")
	}
}

// trafficSource decodes the formats the first loader did not know: gor and
// synthetic. It reports whether raw was one of them.
func (d *decoder) trafficSource(i int, source *framework.TrafficSource) {
	item := d.value.LookupPath(cue.MakePath(cue.Str("traffic"), cue.Index(i)))
	if v := item.LookupPath(cue.MakePath(cue.Str("gor"))); v.Exists() {
		source.Format, _ = "gor", ""
		source.Path, _ = v.String()
		return
	}
	if v := item.LookupPath(cue.MakePath(cue.Str("synthetic"))); v.Exists() {
		source.Format = "synthetic"
		source.Synthetic = d.synthetic(v, []cue.Selector{cue.Str("traffic"), cue.Index(i), cue.Str("synthetic")})
	}
}

// checkTrafficPath reports a traffic file, or a glob, that names nothing.
func (d *decoder) checkTrafficPath(path []cue.Selector, source framework.TrafficSource) {
	file := source.Path
	if !filepath.IsAbs(file) {
		file = filepath.Join(d.dir, file)
	}
	if strings.ContainsAny(source.Path, "*?[") {
		matches, err := filepath.Glob(file)
		switch {
		case err != nil:
			d.report(path, source.Pos, "bad glob %q: %v", source.Path, err)
		case len(matches) == 0:
			d.report(path, source.Pos, "no traffic file matches %s", source.Path)
		}
		return
	}
	switch info, err := os.Stat(file); {
	case os.IsNotExist(err):
		d.report(path, source.Pos, "traffic file not found: %s", source.Path)
	case err != nil:
		d.report(path, source.Pos, "cannot read traffic file: %v", err)
	case info.IsDir():
		if _, err := traffic.DirFiles(file, source.Format); err != nil {
			d.report(path, source.Pos, "traffic directory %s: %v", source.Path, err)
		}
	}
}

// synthetic decodes a #Synthetic value, keeping the parameters in
// declaration order and rendering bodies as JSON.
func (d *decoder) synthetic(v cue.Value, path []cue.Selector) *framework.Synthetic {
	syn := &framework.Synthetic{}
	if count := v.LookupPath(cue.MakePath(cue.Str("count"))); count.Exists() {
		n, _ := count.Int64()
		syn.Count = int(n)
	}
	seed, _ := v.LookupPath(cue.MakePath(cue.Str("seed"))).Uint64()
	syn.Seed = seed
	list, err := v.LookupPath(cue.MakePath(cue.Str("requests"))).List()
	if err != nil {
		d.problems = append(d.problems, d.loader.problems(err)...)
		return syn
	}
	for i := 0; list.Next(); i++ {
		at := append(slices.Clone(path), cue.Str("requests"), cue.Index(i))
		syn.Requests = append(syn.Requests, d.syntheticRequest(list.Value(), at))
	}
	return syn
}

func (d *decoder) syntheticRequest(v cue.Value, path []cue.Selector) framework.SyntheticRequest {
	var raw struct {
		Method   string            `json:"method"`
		URL      string            `json:"url"`
		Headers  map[string]string `json:"headers"`
		RPC      string            `json:"rpc"`
		Metadata map[string]string `json:"metadata"`
		Combine  string            `json:"combine"`
	}
	d.get(&raw, &v)
	req := framework.SyntheticRequest{Method: raw.Method, URL: raw.URL, RPC: raw.RPC, Zip: raw.Combine == "zip"}
	if len(raw.Headers) > 0 {
		req.Headers = raw.Headers
	}
	body := v.LookupPath(cue.MakePath(cue.Str("body")))
	message := v.LookupPath(cue.MakePath(cue.Str("message")))
	switch {
	case (raw.URL == "") == (raw.RPC == ""):
		d.report(path, d.pos(path...), "a synthetic request needs exactly one of url (HTTP) and rpc (gRPC)")
	case raw.RPC != "":
		// A gRPC template: message and metadata, not body and headers.
		for _, field := range []string{"body", "headers"} {
			if f := v.LookupPath(cue.MakePath(cue.Str(field))); f.Exists() {
				at := append(slices.Clone(path), cue.Str(field))
				d.report(at, orPos(d.pos(at...), d.pos(path...)), "an rpc template has message and metadata, not %s", field)
			}
		}
		req.Headers = nil
		if len(raw.Metadata) > 0 {
			req.Headers = raw.Metadata
		}
		req.Body = []byte("{}")
		body = message
	default:
		for _, field := range []string{"message", "metadata"} {
			if f := v.LookupPath(cue.MakePath(cue.Str(field))); f.Exists() {
				at := append(slices.Clone(path), cue.Str(field))
				d.report(at, orPos(d.pos(at...), d.pos(path...)), "%s belongs to an rpc template; an HTTP one has body and headers", field)
			}
		}
	}
	if body.Exists() {
		text, err := body.MarshalJSON()
		if err != nil {
			d.problems = append(d.problems, d.loader.problems(err)...)
		}
		req.Body = text
	}
	iter, err := v.LookupPath(cue.MakePath(cue.Str("params"))).Fields()
	if err == nil {
		for iter.Next() {
			req.Params = append(req.Params, d.syntheticParam(label(iter.Selector()), iter.Value()))
		}
	}
	length := -1
	for _, p := range req.Params {
		if !req.Zip {
			break
		}
		n := p.Len()
		if length >= 0 && n != length {
			at := append(slices.Clone(path), cue.Str("params"), cue.Str(p.Name))
			d.report(at, orPos(d.pos(at...), d.pos(path...)),
				`combine: "zip" needs parameters of the same length: %s has %d values, the first one %d`, p.Name, n, length)
			break
		}
		length = n
	}
	for _, p := range req.Params {
		if p.Values == nil && p.Len() == 0 {
			at := append(slices.Clone(path), cue.Str("params"), cue.Str(p.Name))
			d.report(at, orPos(d.pos(at...), d.pos(path...)), "empty range: from %d is after to %d", p.From, p.To)
		}
	}
	return req
}

func (d *decoder) syntheticParam(name string, v cue.Value) framework.SyntheticParam {
	param := framework.SyntheticParam{Name: name}
	if v.Kind() == cue.StructKind {
		param.From, _ = v.LookupPath(cue.MakePath(cue.Str("from"))).Int64()
		param.To, _ = v.LookupPath(cue.MakePath(cue.Str("to"))).Int64()
		param.Step, _ = v.LookupPath(cue.MakePath(cue.Str("step"))).Int64()
		return param
	}
	list, _ := v.List()
	param.Values = []string{}
	for list.Next() {
		item := list.Value()
		switch item.Kind() {
		case cue.StringKind:
			s, _ := item.String()
			param.Values = append(param.Values, s)
		case cue.BoolKind:
			b, _ := item.Bool()
			param.Values = append(param.Values, strconv.FormatBool(b))
		default:
			text, _ := item.MarshalJSON()
			param.Values = append(param.Values, string(text))
		}
	}
	return param
}

// match decodes an endpoint's match predicates.
func (d *decoder) match(endpoint *framework.Endpoint, value cue.Value) {
	endpoint.Query = d.predicates(value.LookupPath(cue.MakePath(cue.Str("match"), cue.Str("query"))))
	endpoint.Header = d.predicates(value.LookupPath(cue.MakePath(cue.Str("match"), cue.Str("headers"))))
}

func (d *decoder) predicates(v cue.Value) []framework.Predicate {
	iter, err := v.Fields()
	if err != nil {
		return nil
	}
	var out []framework.Predicate
	for iter.Next() {
		p := framework.Predicate{Name: label(iter.Selector())}
		item := iter.Value()
		switch item.Kind() {
		case cue.BoolKind:
			present, _ := item.Bool()
			p.Present, p.Absent = present, !present
		case cue.StringKind:
			s, _ := item.String()
			p.Values = []string{s}
		default:
			d.get(&p.Values, &item)
		}
		out = append(out, p)
	}
	return out
}
