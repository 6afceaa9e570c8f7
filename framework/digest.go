package framework

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// SpecDigest identifies what a plan judges: its endpoints (matching,
// rules, thresholds, known categories, noise probe) and its report
// settings, without spec positions (they name files relative to where the
// tool ran) and without targets (each CI job may reach the services at
// its own address). Two runs with equal digests judge alike.
func SpecDigest(p *Plan) string {
	endpoints := make([]Endpoint, len(p.Endpoints))
	for i, e := range p.Endpoints {
		e.Pos, e.KnownPos = Position{}, Position{}
		e.Thresholds.MatchRatePos, e.Thresholds.ErrorRatePos = Position{}, Position{}
		e.Thresholds.LatencyP50Pos, e.Thresholds.LatencyP99Pos = Position{}, Position{}
		endpoints[i] = e
	}
	return digest(struct {
		Endpoints []Endpoint     `json:"endpoints"`
		Report    ReportSettings `json:"report"`
	}{endpoints, p.Report})
}

// TrafficDigest identifies which traffic a plan sends: the sources (format,
// path as the spec names it, synthetic templates and seed), the mirror
// mode, sample rate and seed, the endpoints the selective mode sends, the
// write policy and the body cap. Pace (concurrency, rate limit, speed)
// and the kill switch are left out: they change when requests go, not
// which. The content of recorded files is not read.
func TrafficDigest(p *Plan) string {
	type source struct {
		Format    string     `json:"format"`
		Path      string     `json:"path"`
		Synthetic *Synthetic `json:"synthetic"`
	}
	sources := make([]source, len(p.Traffic))
	for i, t := range p.Traffic {
		sources[i] = source{t.Format, t.Path, t.Synthetic}
	}
	m := p.Mirror
	return digest(struct {
		Sources      []source  `json:"sources"`
		Mode         string    `json:"mode"`
		Rate         float64   `json:"rate"`
		Seed         uint64    `json:"seed"`
		Endpoints    []string  `json:"endpoints"`
		Writes       string    `json:"writes"`
		DryRunHeader [2]string `json:"dryRunHeader"`
		MaxBodyBytes int64     `json:"maxBodyBytes"`
	}{sources, m.Mode, m.Rate, m.Seed, m.Endpoints, m.Writes, m.DryRunHeader, m.MaxBodyBytes})
}

// digest is "sha256:" and the hex SHA-256 of v's JSON encoding; the
// encoding of a struct or slice is deterministic and maps are sorted.
func digest(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic("framework: digest of an unencodable value: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
