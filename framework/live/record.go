package live

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// recordSeed salts the recorder's sampling, so that the exchanges it keeps
// do not follow the mirror's sample.
const recordSeed = 0x7265636f7264

// Bounds of the exchanges waiting to be written: the proxy never waits on
// the disk, and a flood of large bodies cannot grow the recorder's memory
// past RecordQueueBytes.
const (
	recordQueue = 1024
	// RecordQueueBytes bounds the bytes (bodies, headers, URLs) of the
	// exchanges waiting in a Recorder's queue.
	RecordQueueBytes = 64 << 20
)

// Reasons an exchange offered to a Recorder is not written, as the reason
// label of shadowtest_live_record_skipped_exchanges_total shows them.
const (
	RecordQueueFull   = "queue full"
	RecordWriteFailed = "write failed"
	RecordWithheld    = "withheld"
)

// RecordOptions tune a Recorder.
type RecordOptions struct {
	// Rate is the fraction of the exchanges kept, deterministic by request
	// and independent of the mirror's own sample; 0 keeps them all.
	Rate float64
	// MaxSize is the size in bytes at which a recording directory's file
	// is closed and the next one started; 0 means DefaultRecordMaxSize.
	MaxSize int64
	// MaxFiles is how many recordings a directory keeps: past it the
	// oldest are deleted; 0 keeps them all.
	MaxFiles int
	// MaxAge closes a directory's file once it is this old even if it is
	// not full; 0 means DefaultRecordMaxAge.
	MaxAge time.Duration
	// Log receives write failures (once per failing streak) and recoveries;
	// nil discards them.
	Log io.Writer
	// WireRPCs records the gRPC calls the descriptors cannot decode with
	// their messages as wire bytes (messagesBase64). Off by default: wire
	// bytes carry no field names, so a secret in them can only be found by
	// value (a credential the recorder has seen elsewhere); a password
	// field of a method the protos lack would be recorded. Off, such calls
	// are withheld and counted.
	WireRPCs bool
	// now is the clock, time.Now outside tests.
	now func() time.Time
	// create creates a directory's next file; createFile outside tests.
	create func(path string) (writeFile, error)
}

// Recorder writes proxied exchanges, scrubbed, in shadowtest's JSONL
// format (framework/traffic), which init --from and run read. It never
// blocks the caller: an exchange that does not fit its queue is dropped
// and counted, and a failing disk only costs the exchanges it could not
// hold (counted, logged once per streak).
//
// Scrubbing: sensitive request and response headers (Authorization,
// Cookie, Set-Cookie, API keys, names that look secret) are left out;
// secret query parameters, JSON members and form fields are masked; the
// bodies are stored decoded (no Content-Encoding); and every value learned
// as secret is scrubbed from the whole line, wherever it is echoed. An
// exchange whose body cannot be parsed to be redacted (a JSON body that
// does not parse), or was cut at the body cap, is not recorded.
type Recorder struct {
	rate     float64
	wireRPCs bool // RecordOptions.WireRPCs
	redactor *redact.Redactor
	scrubber *scrub.Scrubber
	out      sink
	log      io.Writer
	target   string

	queue       chan framework.Exchange
	queuedBytes atomic.Int64
	done        chan error
	// gate keeps Record from sending on the queue once Close closed it:
	// a request that outlives the server's shutdown is offered late.
	gate    sync.RWMutex
	closing bool

	// written counts exchanges in finished files (and, at Close, the
	// last one); pending those in the file being written.
	written, pending          atomic.Int64
	dropped, withheld, failed atomic.Int64
	writeErrors, files        atomic.Int64
	close                     sync.Once
	err                       error
	unlock                    func() // releases the target's lock; nil for NewRecorder
	failing                   bool   // in a streak of write failures; worker only
	failFiles, failedBase     int64  // files and lost exchanges when the streak began
}

// sink is where a Recorder's lines go: one stream, or a directory of
// rotated files. Its methods are called from the recorder's worker only.
type sink interface {
	// write writes one whole line.
	write(line []byte) error
	// tick hands what was written to the file (synced to the disk), and
	// finishes a file that is old enough.
	tick() error
	// close finishes the last file.
	close() error
	// describe names where the lines go.
	describe() string
}

// NewRecorder writes to w (gzipped when gz), keeping the fraction
// opt.Rate of the exchanges it is given, masking with red, and scrubbing
// each line with sc. Close flushes and closes w. OpenRecorder writes to a
// file or a directory of rotated files.
func NewRecorder(w io.WriteCloser, gz bool, opt RecordOptions, red *redact.Redactor, sc *scrub.Scrubber) *Recorder {
	r := newRecorder(opt, red, sc)
	r.out = &streamSink{r: r, s: newSegment(w, gz), closer: w, name: "the recording"}
	r.start(opt)
	return r
}

// OpenRecorder records to target: a directory (one that exists, or a name
// ending in "/") receives gzipped files named
// shadowtest-<UTC time>-<sequence>.jsonl.gz, each finished and the next
// started before a line would take it past opt.MaxSize (a line larger
// than that has a file of its own), once it is opt.MaxAge old, and at
// Close; any other name is one file, gzipped when it ends in ".gz". Every
// file is written under its final name, and what was written is flushed
// to it every RecordFlushEvery: a proxy killed without warning leaves
// files that readers read up to the last flush (traffic.ErrCutShort).
//
// The target is locked for the recorder's life (a lock file beside it,
// holding the pid): a second recorder on the same directory or file, in
// this process or another, gets a *RecordLockedError.
func OpenRecorder(target string, opt RecordOptions, red *redact.Redactor, sc *scrub.Scrubber) (*Recorder, error) {
	if opt.now == nil {
		opt.now = time.Now
	}
	if opt.create == nil {
		opt.create = createFile
	}
	r := newRecorder(opt, red, sc)
	r.target = target
	dir := IsRecordDir(target)
	if dir {
		if err := os.MkdirAll(target, 0o700); err != nil { // recordFileMode: the owner's only
			return nil, err
		}
	}
	unlock, err := lockRecording(target, dir)
	if err != nil {
		return nil, err
	}
	r.unlock = unlock
	if dir {
		d, err := newDirSink(target, opt, r)
		if err != nil {
			unlock()
			return nil, err
		}
		r.out = d
	} else {
		s, err := newFileSink(target)
		if err != nil {
			unlock()
			return nil, err
		}
		s.r = r
		r.out = s
	}
	r.start(opt)
	return r, nil
}

// IsRecordDir reports whether a --record target names a directory: one
// that exists, or a name ending in a path separator.
func IsRecordDir(target string) bool {
	if strings.HasSuffix(target, "/") || strings.HasSuffix(target, string(os.PathSeparator)) {
		return true
	}
	info, err := os.Stat(target)
	return err == nil && info.IsDir()
}

func newRecorder(opt RecordOptions, red *redact.Redactor, sc *scrub.Scrubber) *Recorder {
	rate := opt.Rate
	if rate <= 0 {
		rate = 1
	}
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	return &Recorder{rate: rate, wireRPCs: opt.WireRPCs, redactor: red, scrubber: sc, log: log, queue: make(chan framework.Exchange, recordQueue), done: make(chan error, 1)}
}

func (r *Recorder) start(opt RecordOptions) {
	every := RecordFlushEvery
	if opt.MaxAge > 0 && opt.MaxAge < every {
		every = opt.MaxAge
	}
	go r.work(every)
}

// work writes queued exchanges until Close, and every tick flushes what
// was written to the file and lets the sink close an old file.
func (r *Recorder) work(every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	var line bytes.Buffer
	for {
		select {
		case ex, ok := <-r.queue:
			if !ok {
				r.done <- r.out.close()
				return
			}
			r.queuedBytes.Add(-exchangeBytes(&ex))
			e, kept := r.scrubbed(ex)
			if !kept {
				continue
			}
			line.Reset()
			if err := traffic.WriteJSONL(&line, e); err != nil {
				r.withheld.Add(1)
				continue
			}
			r.wrote(r.out.write(r.scrubber.Bytes(line.Bytes())))
		case <-ticker.C:
			if err := r.out.tick(); err != nil {
				r.wrote(err)
			}
		}
	}
}

// wrote counts a line's outcome and logs the first failure of a streak
// and the recovery after it.
func (r *Recorder) wrote(err error) {
	switch {
	case err == nil && !r.failing:
		r.failedBase = r.failed.Load()
		return
	case err == nil:
		if r.files.Load() > r.failFiles { // a whole file was written again
			r.failing = false
			fmt.Fprintf(r.log, "shadowtest: --record %s: writing again after %d exchange(s) lost\n", r.out.describe(), r.failed.Load()-r.failedBase)
		}
		return
	case err == errHeldOff:
		r.failed.Add(1)
		return
	}
	r.writeErrors.Add(1)
	if !r.failing {
		r.failing, r.failFiles = true, r.files.Load()
		fmt.Fprintf(r.log, "shadowtest: --record %s: %s; exchanges are dropped and counted until a file can be written again (prod is not affected)\n", r.out.describe(), r.scrubber.Error(err))
	}
	if _, lost := err.(*lostLines); !lost {
		r.failed.Add(1) // the line being written
	}
}

// Record queues an exchange with prod's answer, if the recorder's sample
// takes it. It never blocks. After Close the exchange is dropped and
// counted (a request that outlived the server's shutdown).
func (r *Recorder) Record(ex *framework.Exchange) {
	if r.rate < 1 && !runner.Sampled(&ex.Request, r.rate, recordSeed) {
		return
	}
	if ex.Recorded == nil || ex.Recorded.Failed() || ex.Recorded.Truncated {
		r.withheld.Add(1)
		return
	}
	r.gate.RLock()
	defer r.gate.RUnlock()
	if r.closing {
		r.dropped.Add(1)
		return
	}
	size := exchangeBytes(ex)
	if r.queuedBytes.Add(size) > RecordQueueBytes {
		r.queuedBytes.Add(-size)
		r.dropped.Add(1)
		return
	}
	select {
	case r.queue <- *ex:
	default:
		r.queuedBytes.Add(-size)
		r.dropped.Add(1)
	}
}

func exchangeBytes(ex *framework.Exchange) int64 {
	// Headers count too: a client may send a megabyte of them with every
	// request (net/http's default bound), more than most bodies.
	n := int64(len(ex.Request.Body)+len(ex.Request.URL)+512) + headerBytes(ex.Request.Header)
	if ex.Request.RPC != nil { // an RPC's messages too (wire bytes when not decoded)
		n += messagesBytes(ex.Request.RPC.Messages)
	}
	if ex.Recorded != nil {
		n += int64(len(ex.Recorded.Body)) + headerBytes(ex.Recorded.Header)
		if ex.Recorded.RPC != nil {
			n += messagesBytes(ex.Recorded.RPC.Messages) + int64(len(ex.Recorded.RPC.Details)) + headerBytes(ex.Recorded.RPC.Trailer)
		}
	}
	return n
}

// headerBytes is the size of a header's names and values.
func headerBytes(h http.Header) int64 {
	var n int64
	for name, values := range h {
		n += int64(len(name))
		for _, v := range values {
			n += int64(len(v))
		}
	}
	return n
}

func messagesBytes(messages [][]byte) int64 {
	var n int64
	for _, m := range messages {
		n += int64(len(m))
	}
	return n
}

// Close writes what is queued and finishes the last file.
func (r *Recorder) Close() error {
	r.close.Do(func() {
		r.gate.Lock()
		r.closing = true
		close(r.queue)
		r.gate.Unlock()
		r.err = <-r.done
		if r.unlock != nil {
			r.unlock()
		}
		if r.err != nil {
			r.err = fmt.Errorf("%s", r.scrubber.Error(r.err))
		}
	})
	return r.err
}

// RecordCounts are a Recorder's counts.
type RecordCounts struct {
	// Written counts the exchanges in finished files.
	Written int64
	// Dropped counts exchanges that found the queue full (or came after
	// Close).
	Dropped int64
	// Withheld counts exchanges not recorded on purpose: not redactable,
	// cut at the body cap, or prod failed.
	Withheld int64
	// Failed counts exchanges lost to a write failure (a full disk).
	Failed int64
	// Files counts the finished files.
	Files int64
}

// Counts returns the recorder's counts.
func (r *Recorder) Counts() RecordCounts {
	return RecordCounts{Written: r.written.Load(), Dropped: r.dropped.Load(), Withheld: r.withheld.Load(), Failed: r.failed.Load(), Files: r.files.Load()}
}

// Collectors returns the recorder's metrics, for the session's registry:
// shadowtest_live_recorded_exchanges_total (in finished files),
// shadowtest_live_record_pending_exchanges (in the file being written),
// shadowtest_live_record_skipped_exchanges_total{reason},
// shadowtest_live_record_files_total and
// shadowtest_live_record_write_errors_total.
func (r *Recorder) Collectors() []prometheus.Collector {
	counter := func(name, help string, v *atomic.Int64, labels prometheus.Labels) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "shadowtest", Subsystem: "live", Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	skipped := "Exchanges --record did not write, by reason: queue full, write failed (a full or failing disk), withheld (not redactable, cut at the body cap, prod failed)."
	return []prometheus.Collector{
		counter("recorded_exchanges_total", "Exchanges in finished --record files.", &r.written, nil),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "shadowtest", Subsystem: "live", Name: "record_pending_exchanges", Help: "Exchanges in the --record file being written (readable up to the last flush, every second)."},
			func() float64 { return float64(r.pending.Load()) }),
		counter("record_skipped_exchanges_total", skipped, &r.dropped, prometheus.Labels{"reason": RecordQueueFull}),
		counter("record_skipped_exchanges_total", skipped, &r.failed, prometheus.Labels{"reason": RecordWriteFailed}),
		counter("record_skipped_exchanges_total", skipped, &r.withheld, prometheus.Labels{"reason": RecordWithheld}),
		counter("record_files_total", "Finished --record files.", &r.files, nil),
		counter("record_write_errors_total", "Failures writing, closing or renaming a --record file.", &r.writeErrors, nil),
	}
}

// scrubbed is the exchange as it may be recorded.
func (r *Recorder) scrubbed(ex framework.Exchange) (framework.Exchange, bool) {
	if ex.Request.RPC != nil {
		return r.scrubbedRPC(ex) // grpc.go
	}
	r.redactor.Learn(&ex.Request, ex.Recorded)
	req := ex.Request
	req.URL = r.redactor.URL(req.URL)
	reqBody, ok := r.body(req.Header, req.Body)
	if !ok {
		return ex, false
	}
	req.Header, req.Body = r.headers(req.Header), reqBody
	resp := *ex.Recorded
	respBody, ok := r.body(resp.Header, resp.Body)
	if !ok {
		return ex, false
	}
	resp.Header, resp.Body = r.headers(resp.Header), respBody
	return framework.Exchange{Time: ex.Time, Request: req, Recorded: &resp}, true
}

func (r *Recorder) body(h http.Header, body []byte) ([]byte, bool) {
	out, _, err := r.redactor.BodyOf(h, body)
	if err != nil {
		r.withheld.Add(1)
		return nil, false
	}
	return out, true
}

// headers leaves out the sensitive headers and the ones that described
// the body as sent (it is stored decoded), and masks secrets in the rest.
func (r *Recorder) headers(h http.Header) http.Header {
	kept := http.Header{}
	for name, values := range h {
		if r.redactor.IsSensitiveHeader(name) {
			continue
		}
		switch http.CanonicalHeaderKey(name) {
		case "Content-Encoding", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		kept[name] = values
	}
	return r.redactor.Header(kept)
}
