package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/runner"
)

// feedOptions are the run flags that choose which traffic is sent: they
// override the spec's mirror mode, rate and speed, and add the shard and
// the bad-record policy, which only the CI job knows.
type feedOptions struct {
	shard          string
	mode           string
	rate           float64
	speed          string
	skipBadRecords bool
}

// modes are the values of mirror.mode and --mode.
var modes = []string{"full", "sampled", "selective", "replay"}

func (o *feedOptions) register(fs interface {
	StringVar(*string, string, string, string)
	Float64Var(*float64, string, float64, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&o.shard, "shard", "", "send only the deterministic slice `K/N` of the selected traffic (CI fan-out; the N shards are disjoint and cover it all)")
	fs.StringVar(&o.mode, "mode", "", "override mirror.mode: full, sampled, selective or replay")
	fs.Float64Var(&o.rate, "rate", 0, "override mirror.rate, the fraction the sampled mode sends (0 < rate <= 1)")
	fs.StringVar(&o.speed, "speed", "", "override mirror.speed, the replay mode's pace as a multiple of the recorded one (2: twice as fast; 0: as fast as the limits allow)")
	fs.BoolVar(&o.skipBadRecords, "skip-bad-records", false, "count and skip malformed traffic records instead of stopping with exit 2")
}

// apply overrides the plan's mirror settings and returns the feed options
// of the run; log receives record-only intents and skipped records.
func (o *feedOptions) apply(plan *framework.Plan, log io.Writer) (runner.FeedOptions, error) {
	var opt runner.FeedOptions
	if o.shard != "" {
		shard, err := runner.ParseShard(o.shard)
		if err != nil {
			return opt, fmt.Errorf("--shard: %w", err)
		}
		opt.Shard = shard
	}
	m := &plan.Mirror
	if o.mode != "" {
		if !slices.Contains(modes, o.mode) {
			return opt, fmt.Errorf("--mode %q: want one of full, sampled, selective, replay", o.mode)
		}
		m.Mode = o.mode
	}
	if o.rate != 0 {
		if !(o.rate > 0 && o.rate <= 1) { // NaN too
			return opt, fmt.Errorf("--rate %v: want 0 < rate <= 1", o.rate)
		}
		m.Rate = o.rate
	}
	if o.speed != "" {
		speed, err := strconv.ParseFloat(o.speed, 64)
		if err != nil || speed < 0 || math.IsInf(speed, 0) || math.IsNaN(speed) {
			return opt, fmt.Errorf("--speed %q: want a number >= 0 (2: twice the recorded pace; 0: as fast as the limits allow)", o.speed)
		}
		m.Speed = speed
	}
	if o.mode == "sampled" && o.rate == 0 && m.Rate == 1 && m.Ramp == nil {
		// The spec form (mode: "sampled" without rate) is refused; the
		// flag form sampled everything without a word.
		return opt, fmt.Errorf("--mode sampled needs a rate: add --rate (0.1 sends a tenth), or set mirror.rate")
	}
	if o.rate != 0 && o.rate != 1 && m.Mode != "sampled" && m.Ramp == nil {
		// Ignoring it would send every request where the job asked for
		// a fraction: ten times the load on prod for --rate 0.1. A rate
		// of 1 asks for every request, as every other mode sends them.
		return opt, fmt.Errorf("--rate %v applies to the sampled mode, and the mode is %s: add --mode sampled (or set mirror.mode)", o.rate, m.Mode)
	}
	if m.Mode == "selective" && len(m.Endpoints) == 0 {
		return opt, fmt.Errorf(`--mode selective: the spec names no endpoints (mirror: endpoints: ["get-user"])`)
	}
	opt.SkipBadRecords = o.skipBadRecords
	opt.Log = log
	return opt, nil
}

// writeFeedCounts prints what the feed did not send, after the summary.
func writeFeedCounts(w io.Writer, results *observe.Results, opt runner.FeedOptions) {
	if opt.Shard.Count > 1 {
		fmt.Fprintf(w, "shard %s: only this slice of the traffic was sent\n", opt.Shard)
	}
	for _, reason := range []string{"not selected", "sampled out"} {
		if n := results.Filtered[reason]; n > 0 {
			fmt.Fprintf(w, "%d request(s) %s by the mirror mode\n", n, reason)
		}
	}
	for _, e := range results.Endpoints {
		if e.RecordedOnly > 0 {
			fmt.Fprintf(w, "%s: %d write(s) recorded only, not sent (writes: record-only)\n", e.Name, e.RecordedOnly)
		}
		if e.NoRecording > 0 {
			fmt.Fprintf(w, "%s: %d request(s) not sent: the recording has no response for prod to answer with\n", e.Name, e.NoRecording)
		}
	}
	if results.BadRecords > 0 {
		fmt.Fprintf(w, "%d malformed traffic record(s) skipped (--skip-bad-records)\n", results.BadRecords)
	}
}
