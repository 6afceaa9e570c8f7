package live

import (
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// recordSeed salts the recorder's sampling, so that the exchanges it keeps
// do not follow the mirror's sample.
const recordSeed = 0x7265636f7264

// recordQueue bounds the exchanges waiting to be written; the proxy never
// waits on the disk.
const recordQueue = 1024

// Recorder writes proxied exchanges, scrubbed, in shadowtest's JSONL
// format (framework/traffic), which init --from and run read. It never
// blocks the caller: an exchange that does not fit its queue is dropped
// and counted.
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
	redactor *redact.Redactor
	queue    chan framework.Exchange
	done     chan error
	written  atomic.Int64
	dropped  atomic.Int64
	withheld atomic.Int64
	close    sync.Once
	err      error
}

// NewRecorder writes to w (gzipped when gz), keeping the fraction rate of
// the exchanges it is given (deterministic by request), masking with red,
// whose scrubber scrubs each line. Close flushes and closes w.
func NewRecorder(w io.WriteCloser, gz bool, rate float64, red *redact.Redactor, sc *scrub.Scrubber) *Recorder {
	r := &Recorder{rate: rate, redactor: red, queue: make(chan framework.Exchange, recordQueue), done: make(chan error, 1)}
	go func() {
		buffered := bufio.NewWriterSize(w, 256<<10)
		var out io.Writer = buffered
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(buffered)
			out = zw
		}
		lines := sc.Writer(out)
		var err error
		for ex := range r.queue {
			if err != nil {
				continue
			}
			if e, ok := r.scrubbed(ex); ok {
				if err = traffic.WriteJSONL(lines, e); err == nil {
					r.written.Add(1)
				}
			}
		}
		err = errors.Join(err, lines.Flush())
		if zw != nil {
			err = errors.Join(err, zw.Close())
		}
		err = errors.Join(err, buffered.Flush(), w.Close())
		r.done <- err
	}()
	return r
}

// Record queues an exchange with prod's answer, if the recorder's sample
// takes it. It must not be called after Close.
func (r *Recorder) Record(ex *framework.Exchange) {
	if r.rate < 1 && !runner.Sampled(&ex.Request, r.rate, recordSeed) {
		return
	}
	if ex.Recorded == nil || ex.Recorded.Failed() || ex.Recorded.Truncated {
		r.withheld.Add(1)
		return
	}
	select {
	case r.queue <- *ex:
	default:
		r.dropped.Add(1)
	}
}

// Close writes what is queued and closes the file.
func (r *Recorder) Close() error {
	r.close.Do(func() {
		close(r.queue)
		r.err = <-r.done
	})
	return r.err
}

// Counts returns how many exchanges were written, dropped (queue full)
// and withheld (not redactable, cut, or prod failed).
func (r *Recorder) Counts() (written, dropped, withheld int64) {
	return r.written.Load(), r.dropped.Load(), r.withheld.Load()
}

// scrubbed is the exchange as it may be recorded.
func (r *Recorder) scrubbed(ex framework.Exchange) (framework.Exchange, bool) {
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
