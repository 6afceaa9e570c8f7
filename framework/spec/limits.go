package spec

import (
	"strconv"
	"time"

	"cuelang.org/go/cue"

	"github.com/shadowtest/shadowtest/framework"
)

// The raw types of the run's limits: the rate cap and kill switch of
// mirror, and the error-rate and latency thresholds.
type (
	rawLimits struct {
		RPS        *float64       `json:"rps"`
		KillSwitch *rawKillSwitch `json:"killSwitch"`
		Ramp       *rawRamp       `json:"ramp"`
	}
	rawRamp struct {
		Steps       []float64 `json:"steps"`
		MinDuration string    `json:"minDuration"`
		MinPairs    int       `json:"minPairs"`
		OnFailure   string    `json:"onFailure"`
	}
	rawKillSwitch struct {
		ShadowErrorRate float64 `json:"shadowErrorRate"`
		ShadowLatency   string  `json:"shadowLatency"`
		Window          int     `json:"window"`
		File            string  `json:"file"`
	}
	rawLatencyThresholds struct {
		ErrorRate       *string  `json:"errorRate"`
		ErrorRateSlack  *float64 `json:"errorRateSlack"`
		LatencyP50Ratio *float64 `json:"latencyP50Ratio"`
		LatencyP99      *string  `json:"latencyP99"`
	}
)

// Monitored is the latencyP99 value that reports the p99 without a bound.
const Monitored = "monitored"

// mirrorLimits decodes mirror.rps and mirror.killSwitch into m.
func (d *decoder) mirrorLimits(m *framework.Mirror) {
	path := []cue.Selector{cue.Str("mirror")}
	var raw rawLimits
	if !d.get(&raw, nil, path...) {
		return
	}
	if raw.RPS != nil {
		m.RPS = *raw.RPS
	}
	if raw.Ramp != nil {
		m.Ramp = d.ramp(append(path, cue.Str("ramp")), raw.Ramp)
	}
	if raw.KillSwitch == nil {
		return
	}
	ks := raw.KillSwitch
	m.KillSwitch = framework.KillSwitch{ShadowErrorRate: ks.ShadowErrorRate, Window: ks.Window, File: ks.File}
	if ks.ShadowLatency != "" {
		at := append(path, cue.Str("killSwitch"), cue.Str("shadowLatency"))
		m.KillSwitch.ShadowLatency = d.positiveDuration(at, ks.ShadowLatency)
	}
}

// ramp decodes mirror.ramp and checks what the schema cannot: steps
// strictly increasing.
func (d *decoder) ramp(path []cue.Selector, raw *rawRamp) *framework.Ramp {
	r := &framework.Ramp{Steps: raw.Steps, MinPairs: raw.MinPairs, OnFailure: raw.OnFailure, Pos: d.pos(path...)}
	r.MinDuration = d.positiveDuration(append(path, cue.Str("minDuration")), raw.MinDuration)
	for i := 1; i < len(r.Steps); i++ {
		if r.Steps[i] <= r.Steps[i-1] {
			at := append(path, cue.Str("steps"), cue.Index(i))
			d.report(at, d.pos(at...), "ramp steps must increase: step %d (%g) is not above step %d (%g); for example steps: [0.01, 0.05, 0.25, 1.0]", i+1, r.Steps[i], i, r.Steps[i-1])
		}
	}
	return r
}

// latencyThresholds decodes the error-rate and latency thresholds of the
// endpoint at path, each field taken from the endpoint or else from
// defaults.thresholds, with the position it was declared at.
func (d *decoder) latencyThresholds(path []cue.Selector, th *framework.Thresholds, fallback framework.Position) {
	var own, inherited rawLatencyThresholds
	ownPath := append(append([]cue.Selector(nil), path...), cue.Str("thresholds"))
	defaultsPath := []cue.Selector{cue.Str("defaults"), cue.Str("thresholds")}
	if d.value.LookupPath(cue.MakePath(ownPath...)).Exists() {
		d.get(&own, nil, ownPath...)
	}
	d.get(&inherited, nil, defaultsPath...)
	// where returns the path and position of the field that applies.
	where := func(field string, isOwn bool) ([]cue.Selector, framework.Position) {
		base := defaultsPath
		if isOwn {
			base = ownPath
		}
		at := append(append([]cue.Selector(nil), base...), cue.Str(field))
		return at, orPos(d.pos(at...), fallback)
	}

	errorRate := or(own.ErrorRate, inherited.ErrorRate)
	_, th.ErrorRatePos = where("errorRate", own.ErrorRate != nil)
	th.ErrorRateSlack = *or(own.ErrorRateSlack, inherited.ErrorRateSlack)
	th.ErrorRate = *errorRate != "off"

	th.LatencyP50Ratio = *or(own.LatencyP50Ratio, inherited.LatencyP50Ratio)
	_, th.LatencyP50Pos = where("latencyP50Ratio", own.LatencyP50Ratio != nil)

	p99 := *or(own.LatencyP99, inherited.LatencyP99)
	var p99Path []cue.Selector
	p99Path, th.LatencyP99Pos = where("latencyP99", own.LatencyP99 != nil)
	switch p99 {
	case "", Monitored:
		th.LatencyP99Monitored = p99 == Monitored
	default:
		th.LatencyP99 = d.positiveDuration(p99Path, p99)
	}
}

// positiveDuration parses a duration the schema has already checked the
// syntax of, reporting values Go cannot represent or that are zero.
func (d *decoder) positiveDuration(path []cue.Selector, value string) time.Duration {
	v, err := time.ParseDuration(value)
	switch {
	case err != nil:
		d.report(path, d.pos(path...), "%s", durationMessage(strconv.Quote(value)))
	case v <= 0:
		d.report(path, d.pos(path...), "duration must be greater than zero, got %q", value)
	}
	return v
}
