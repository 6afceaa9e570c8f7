package runner

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/selector"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// FeedOptions say which part of the plan's traffic this process sends,
// beyond what the plan says (the CLI's --shard and --skip-bad-records).
type FeedOptions struct {
	// Shard is this process's slice of the selected traffic: Shard.Index
	// of Shard.Count. The zero value sends everything.
	Shard Shard
	// SkipBadRecords counts malformed records (observe.Results.BadRecords)
	// and goes on, instead of ending the run with an *InputError.
	SkipBadRecords bool
	// Log receives one line per request the "record-only" write policy
	// did not send and per skipped bad record; nil discards them.
	Log io.Writer

	// prepare readies an RPC exchange with the descriptors (Run sets it);
	// its error makes the record a bad one.
	prepare func(*framework.Exchange) error
}

// Shard is the slice Index (1-based) of Count of the selected traffic. A
// request belongs to exactly one shard, decided by a hash of the request
// and its recorded time: the shards of a run are disjoint, their union is
// the whole selected traffic, and the same request lands in the same shard
// on every run and machine.
type Shard struct {
	Index, Count int
}

// ParseShard parses "K/N" with 1 <= K <= N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(k)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || index < 1 || index > count {
		return Shard{}, fmt.Errorf("invalid shard %q: want K/N with 1 <= K <= N, for example 2/4", s)
	}
	return Shard{Index: index, Count: count}, nil
}

// String formats the shard as "K/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Has reports whether the exchange belongs to this shard.
func (s Shard) Has(ex *framework.Exchange) bool {
	if s.Count <= 1 {
		return true
	}
	h := requestHash(&ex.Request, shardSalt^uint64(ex.Time.UnixNano()))
	return int(h%uint64(s.Count)) == s.Index-1
}

// Sampled reports whether the sampled mode sends req at rate with seed: a
// hash of the request (method, URL and body) and the seed, read as a
// fraction in [0, 1), is below rate. The same request is chosen, or not,
// on every run.
func Sampled(req *framework.Request, rate float64, seed uint64) bool {
	if rate >= 1 {
		return true
	}
	h := requestHash(req, sampleSalt^seed)
	return float64(h>>11)/(1<<53) < rate
}

const (
	sampleSalt = 0x9e3779b97f4a7c15
	shardSalt  = 0xc2b2ae3d27d4eb4f
)

// requestHash is FNV-1a over the request, finished with a splitmix64
// mix of the salt so that nearby inputs and salts spread evenly.
func requestHash(req *framework.Request, salt uint64) uint64 {
	f := fnv.New64a()
	f.Write([]byte(req.Method))
	f.Write([]byte{0})
	f.Write([]byte(req.URL))
	f.Write([]byte{0})
	f.Write(req.Body)
	z := f.Sum64() ^ salt
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// feed streams every traffic source into jobs, in order, and returns how
// many requests were sent. Each request goes through: the shard, endpoint
// selection (unmatched ones are counted by method and path template), the
// mirror mode (selective, sampled), the write policy for unsafe methods,
// the recorded prod check, and in the replay mode the recorded pacing.
// Every request of the shard that is not sent is counted in results.
func feed(ctx context.Context, plan *framework.Plan, sel *selector.Selector, results *observe.Results, jobs chan<- job, opt FeedOptions) (int64, error) {
	var sent int64
	pace := newPacer(plan.Mirror)
	for _, src := range plan.Traffic {
		reader, err := traffic.Open(src, plan.Dir)
		if err != nil {
			return sent, &InputError{Err: err}
		}
		// A recording cut short (a proxy killed while it recorded) is
		// read up to the cut, and the cut is said.
		reader = traffic.WarnCutShort(reader, func(err error) {
			if opt.Shard.Index <= 1 { // every shard reads every record: say it once
				logf(opt.Log, "warning: %v\n", err)
			}
		})
		var lastBad error
		for {
			ex, err := reader.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var bad *traffic.RecordError
				if !opt.SkipBadRecords || !errors.As(err, &bad) {
					reader.Close()
					return sent, &InputError{Err: err}
				}
				if err == lastBad {
					break // the reader cannot go past it (broken JSON): the rest is lost
				}
				lastBad = err
				if opt.Shard.Index <= 1 { // every shard reads every record: count once
					results.AddBadRecord()
					logf(opt.Log, "skipped bad record: %v\n", err)
				}
				continue
			}
			// The shard comes first, so that every request, sent or not,
			// is counted by exactly one shard and merged counts add up.
			if !opt.Shard.Has(&ex) {
				continue
			}
			if ex.Request.RPC != nil {
				if err := prepareRPC(&ex, opt.prepare); err != nil {
					if !opt.SkipBadRecords {
						reader.Close()
						return sent, &InputError{Err: err}
					}
					results.AddBadRecord()
					logf(opt.Log, "skipped bad record: %v\n", err)
					continue
				}
			}
			i := sel.Match(&ex.Request)
			if i < 0 {
				results.AddUnmatched(ex.Request.Method + " " + scrub.PathTokens(selector.Template(ex.Request.URL)))
				continue
			}
			if !send(plan, i, &ex, results, opt) {
				continue
			}
			if err := pace.wait(ctx, ex.Time); err != nil {
				reader.Close()
				return sent, nil
			}
			select {
			case jobs <- job{endpoint: i, exchange: ex}:
				sent++
			case <-ctx.Done():
				reader.Close()
				return sent, nil
			}
		}
		if err := reader.Close(); err != nil {
			return sent, &InputError{Err: err}
		}
	}
	return sent, nil
}

// prepareRPC readies an RPC exchange for sending and comparing (canonical
// bodies, the method's idempotency), or says why it cannot be sent.
func prepareRPC(ex *framework.Exchange, prepare func(*framework.Exchange) error) error {
	err := errors.New("an RPC record, but the spec has no grpc block: add grpc: {protos: [...]}")
	if prepare != nil {
		err = prepare(ex)
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", ex.Origin, ex.Request.RPC.Method, err)
	}
	return nil
}

// send applies the mode, the write policy and the recorded prod check to
// a request of endpoint i (see Admit).
func send(plan *framework.Plan, i int, ex *framework.Exchange, results *observe.Results, opt FeedOptions) bool {
	return Admit(plan, i, ex, results, opt.Log) == ""
}

// unsafeRequest reports whether a request writes: an unsafe HTTP method,
// or an RPC whose method has side effects (neither the endpoint's safe
// nor the proto's NO_SIDE_EFFECTS says otherwise).
func unsafeRequest(req *framework.Request) bool {
	if req.RPC != nil {
		return !req.RPC.NoSideEffects
	}
	return unsafeMethod(req.Method)
}

// unsafeMethod reports whether a method writes: such requests are sent only
// when the write policy allows it.
func unsafeMethod(method string) bool {
	switch method {
	case "POST", "PUT", "PATCH", "DELETE":
		return true
	}
	return false
}

// urls masks URL credentials and secret query parameters, by name.
var urls = redact.Default()

// redactQuery masks the secret query parameters (api_key, token...) of a
// URL in a log line, by name; the others say which request it was.
func redactQuery(url string) string {
	return urls.URL(url)
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// pacer holds requests back in the replay mode so that they leave at the
// recorded pace, divided by the speed: request n leaves (t_n - t_1)/speed
// after the first one. Speed 0, other modes, and requests without a
// recorded time are not held.
type pacer struct {
	speed float64
	first time.Time // the first recorded time
	start time.Time // when the first request left
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
}

func newPacer(m framework.Mirror) *pacer {
	p := &pacer{sleep: sleepContext, now: time.Now}
	if m.Mode == "replay" {
		p.speed = m.Speed
	}
	return p
}

func (p *pacer) wait(ctx context.Context, recorded time.Time) error {
	if p.speed <= 0 || recorded.IsZero() {
		return nil
	}
	if p.first.IsZero() {
		p.first, p.start = recorded, p.now()
		return nil
	}
	offset := recorded.Sub(p.first)
	if offset <= 0 {
		return nil // out of order or simultaneous: no reason to wait
	}
	due := p.start.Add(time.Duration(float64(offset) / p.speed))
	if d := due.Sub(p.now()); d > 0 {
		return p.sleep(ctx, d)
	}
	return nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
