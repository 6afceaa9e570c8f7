package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/envref"
	"github.com/shadowtest/shadowtest/framework/live"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/report"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/framework/suite"
)

// Defaults of the proxy's listeners.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultAdmin           = "127.0.0.1:9090"
	DefaultAdminTokenEnv   = "SHADOWTEST_ADMIN_TOKEN"
	DefaultResultsInterval = 10 * time.Second
)

const proxyExamples = `  shadowtest proxy specs/ -t prod=http://127.0.0.1:8081 -t shadow=http://127.0.0.1:8082 --duration 10m
  SHADOWTEST_ADMIN_TOKEN=s3cret shadowtest proxy specs/ --listen :8080 --admin 127.0.0.1:9090 --results live.json
  curl -X POST -H "Authorization: Bearer $SHADOWTEST_ADMIN_TOKEN" 127.0.0.1:9090/kill`

type proxyOptions struct {
	listen, admin, tokenEnv string
	duration, every         time.Duration
	queue                   int
	captureBudget           string
	captureBytes            int64 // --capture-budget parsed
	probeProd               bool
	mode                    string
	rate                    float64
	record                  string
	recordRate              float64
	recordMaxSize           string
	recordMaxFiles          int
	recordMaxAge            time.Duration
	recordWireRPCs          bool
	prodClient              string
	limits                  limitOptions
	outputs                 outputOptions
}

// minInterval is the least --results-every and --record-max-age: each
// wakes the proxy up that often.
const minInterval = time.Second

// maxQueue bounds --queue: the queue is allocated at once (2,000,000,000
// crashed the proxy out of memory with a Go stack trace); 65,536 is 16
// times the default of 1,024 workers.
const maxQueue = 1 << 16

// The default admin token variable is withheld from specs in every
// command (a job may set it for a proxy and also run specs); proxy also
// withholds the one --admin-token-env names.
func init() { envref.Withhold(DefaultAdminTokenEnv) }

func proxyCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("proxy", "SPECDIR [flags]", proxyExamples, stdout, stderr)
	var opt proxyOptions
	fs.StringVar(&opt.listen, "listen", DefaultListen, "serve client traffic on `ADDR`; every request goes to prod, a copy to the shadow")
	fs.StringVar(&opt.admin, "admin", DefaultAdmin, "serve /metrics, /status and the controls (POST /kill, /resume, /rate?value=R) on `ADDR`")
	fs.StringVar(&opt.tokenEnv, "admin-token-env", DefaultAdminTokenEnv, "environment `VARIABLE` holding the bearer token of the admin POST endpoints (unset: control only by signal and kill file)")
	fs.DurationVar(&opt.duration, "duration", 0, "end the session after this long and judge it (0: until SIGTERM or SIGINT)")
	fs.DurationVar(&opt.every, "results-every", DefaultResultsInterval, "rewrite --results this often during the session (at least 1s; 0: only at the end), so that shadowtest report works mid-session")
	fs.IntVar(&opt.queue, "queue", 0, "copies waiting for a shadow worker before new ones are dropped (0: 4 per worker)")
	fs.StringVar(&opt.captureBudget, "capture-budget", "", "bytes the copies of requests and prod's answers may hold while prod answers, before the queue (e.g. 256MiB); a copy that does not fit is dropped, prod's answer passes untouched (empty: what the queue holds, --queue x 2 x mirror.maxBodyBytes)")
	fs.BoolVar(&opt.probeProd, "probe-prod", false, "let endpoints with noise.probe send that fraction of their safe requests to prod a second time (adds load to prod)")
	fs.StringVar(&opt.mode, "mode", "", "override mirror.mode: full, sampled or selective")
	fs.Float64Var(&opt.rate, "rate", 0, "override mirror.rate, the fraction the sampled mode mirrors (0 < rate <= 1)")
	fs.StringVar(&opt.record, "record", "", "record the proxied exchanges of the spec's endpoints, scrubbed, in shadowtest's JSONL format to `FILE` (.gz: gzipped) or to a DIR/ of rotated .jsonl.gz files; init --from and run read either")
	fs.Float64Var(&opt.recordRate, "record-rate", 1, "the fraction of exchanges --record keeps (deterministic by request, independent of the mirror's rate)")
	fs.StringVar(&opt.recordMaxSize, "record-max-size", humanize.IBytes(live.DefaultRecordMaxSize), "with --record DIR/: start a new file before the current one would pass `SIZE` (e.g. 64MiB, 500MB)")
	fs.IntVar(&opt.recordMaxFiles, "record-max-files", 0, "with --record DIR/: keep at most `N` recordings in the directory, deleting the oldest (0: keep all)")
	fs.DurationVar(&opt.recordMaxAge, "record-max-age", live.DefaultRecordMaxAge, "with --record DIR/: start a new file once the current one is this old, full or not (at least 1s)")
	fs.BoolVar(&opt.recordWireRPCs, "record-wire-rpcs", false, "with --record: also record gRPC calls the descriptors cannot decode, as wire bytes (messagesBase64); they are checked for secrets by value only, since wire bytes carry no field names (off: withheld and counted)")
	fs.StringVar(&opt.prodClient, "prod-client", live.ProdClientFast, "the client to prod: fast (plain HTTP/1.1 on the request's own goroutine; TLS, upgrades, Expect: 100-continue and request trailers go through net/http) or net/http (net/http's Transport for everything)")
	opt.limits.register(fs)
	opt.outputs.register(fs)
	var tags tagFlags
	fs.Var(&tags, "t", tagUsage)
	// --record is an output too: it may share no file with another.
	dir, code, ok := parseSpecDirArgs(fs, args, "shadowtest proxy specs/ -t prod=http://127.0.0.1:8081", stderr, append(outputFlags, "record")...)
	if !ok {
		return code
	}
	switch {
	case opt.duration < 0:
		fmt.Fprintf(stderr, "shadowtest: --duration %s: want a duration above 0 (0: until SIGTERM or SIGINT)\n", opt.duration)
		return exitInvalid
	case opt.queue < 0 || opt.queue > maxQueue:
		fmt.Fprintf(stderr, "shadowtest: --queue %d: want a number of copies from 1 to %d (0: 4 per worker)\n", opt.queue, maxQueue)
		return exitInvalid
	case opt.every != 0 && opt.every < minInterval:
		// Below a second, a rewrite of the results after another kept a
		// core busy for nothing: report reads them at a person's pace.
		fmt.Fprintf(stderr, "shadowtest: --results-every %s: want 0 (never) or at least %s\n", opt.every, minInterval)
		return exitInvalid
	case !slices.Contains(live.ProdClients, opt.prodClient):
		fmt.Fprintf(stderr, "shadowtest: --prod-client %q: want fast or net/http\n", opt.prodClient)
		return exitInvalid
	case opt.record == "-":
		fmt.Fprintln(stderr, "shadowtest: --record -: a recording goes to a FILE or a DIR/, not to standard output (which the summary uses)")
		return exitInvalid
	}
	envref.Withhold(opt.tokenEnv) // the admin token is not the spec's to read
	load := func() (*framework.Plan, error) {
		plan, err := spec.Load(dir, spec.Options{Tags: tags, Live: true, Send: true}) // the proxy never reads the spec's traffic
		if err != nil {
			return nil, err
		}
		feed := feedOptions{mode: opt.mode, rate: opt.rate}
		if _, err := feed.apply(plan, nil); err != nil {
			return nil, err
		}
		if plan.Mirror.Mode == "replay" {
			plan.Mirror.Mode = "full" // live traffic has its own pace
		}
		if err := opt.limits.apply(plan); err != nil {
			return nil, err
		}
		return plan, nil
	}
	plan, err := load()
	if err == nil && opt.captureBudget != "" {
		var n uint64
		if n, err = humanize.ParseBytes(opt.captureBudget); err != nil || n < 1<<10 || n > 1<<50 {
			err = fmt.Errorf("--capture-budget %q: want a size of at least 1KiB, e.g. 256MiB or 1GB", opt.captureBudget)
		}
		opt.captureBytes = int64(n)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	return proxySession(plan, load, opt, stdout, stderr)
}

// proxySession runs a live session until --duration, SIGTERM or SIGINT,
// then judges what it gathered in the suite, exactly as run does.
func proxySession(plan *framework.Plan, reload func() (*framework.Plan, error), opt proxyOptions, stdout, stderr io.Writer) int {
	limit := live.MemoryLimit(plan, opt.queue)
	if opt.captureBytes > 0 {
		limit += opt.captureBytes - live.DefaultCaptureBytes(plan, opt.queue) // MemoryLimit counts the default budget
	}
	if opt.record != "" {
		limit += live.RecordQueueBytes // the recorder's queue at its bound
	}
	tuneCollector(limit)
	results := observe.NewResults(plan.Endpoints)
	stampOrigin(results, plan, runner.Shard{})
	out, err := opt.outputs.open(plan, results, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	defer out.discard()

	// Signals are caught before anything listens: SIGTERM and SIGINT end
	// the session (and are judged), SIGUSR1 and SIGUSR2 trip and reset the
	// kill switch, SIGHUP reloads the spec.
	sigs := make(chan os.Signal, 8)
	notifySignals(sigs, os.Interrupt, syscall.SIGTERM, killSignal, resumeSignal)
	defer signal.Stop(sigs)
	// SIGHUP has a channel of its own, of one: a storm of them is one
	// reload of the latest spec, and can never crowd out a SIGTERM
	// (signal.Notify drops what does not fit).
	reloads := make(chan os.Signal, 1)
	notifySignals(reloads, reloadSignal)
	defer signal.Stop(reloads)

	var ramp proxyRamp // mirror.ramp, when the spec has one
	defer ramp.close()
	liveOpt := live.Options{ProdClient: opt.prodClient, QueueSize: opt.queue, CaptureBytes: opt.captureBytes, ProbeProd: opt.probeProd, Observe: ramp.observe(out.observeLive()), Seen: out.seen, Log: stderr}
	recorder, err := openRecorder(opt, out, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	if recorder != nil {
		defer recorder.Close()
		liveOpt.Record = recorder.Record
	}
	shadow, err := live.New(plan, results, liveOpt)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	defer shadow.Close()
	if recorder != nil {
		shadow.Registry().MustRegister(recorder.Collectors()...)
	}
	took, err := shadow.SelfTest()
	switch {
	case errors.Is(err, live.ErrStartsStopped):
		// The kill file exists: prod's traffic must flow all the same (a
		// proxy in prod's path that refused to start took prod down).
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
	case err != nil:
		fmt.Fprintf(stderr, "shadowtest: kill switch self-test failed: %v\n", err)
		return exitAborted
	default:
		fmt.Fprintf(stderr, "shadowtest: kill switch self-test: mirroring stopped %s after the trip; reset\n", took.Round(time.Microsecond))
	}
	if err := ramp.start(plan, shadow, stderr); err != nil {
		fmt.Fprintf(stderr, "shadowtest: mirror.ramp: %v\n", err)
		return exitInvalid
	}

	front, err := net.Listen("tcp", opt.listen)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: --listen %s: %v\n", opt.listen, err)
		return exitInvalid
	}
	admin, err := net.Listen("tcp", opt.admin)
	if err != nil {
		front.Close()
		fmt.Fprintf(stderr, "shadowtest: --admin %s: %v\n", opt.admin, err)
		return exitInvalid
	}
	token := os.Getenv(opt.tokenEnv)
	if token != "" {
		out.redactor.Learn(&framework.Request{Header: http.Header{"Authorization": {"Bearer " + token}}}, nil)
	}
	// net/http's own messages (a client's bad TLS or request line) go to
	// the scrubbed stderr, not the process's raw one.
	serverLog := log.New(stderr, "shadowtest: ", 0)
	// Idle keep-alive connections are closed after 90 s on the front (above
	// the 60 s idle timeout of common load balancers, so they close first)
	// and 30 s on the admin listener: without a bound, idle clients held
	// their connections and goroutines for ever.
	frontServer := &http.Server{Handler: live.NewProxy(shadow), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second, Protocols: live.Protocols(), ErrorLog: serverLog} // HTTP/1.1, and h2c for gRPC
	adminServer := &http.Server{Handler: live.LoopbackHostsOnly(live.Admin(shadow, token)), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, ErrorLog: serverLog}
	go frontServer.Serve(front)
	go adminServer.Serve(admin)
	client := ""
	if opt.prodClient != live.ProdClientFast {
		client = " (--prod-client " + opt.prodClient + ")"
	}
	fmt.Fprintf(stderr, "shadowtest: proxying %s -> prod %s%s, mirroring to shadow %s; admin on %s\n",
		front.Addr(), runner.DisplayURL(plan.Prod.URL), client, runner.DisplayURL(plan.Shadow.URL), admin.Addr())

	var timeout <-chan time.Time
	if opt.duration > 0 {
		timeout = time.After(opt.duration)
	}
	var tick <-chan time.Time
	if wanted(opt.outputs.results) && opt.outputs.results != stdoutName && opt.every > 0 {
		t := time.NewTicker(opt.every)
		defer t.Stop()
		tick = t.C
	}
	ended := ""
session:
	for {
		select {
		case <-timeout:
			ended = fmt.Sprintf("--duration %s elapsed", opt.duration)
			break session
		case <-tick:
			data, err := resultsJSON(results)
			if err == nil {
				err = writeFileAtomically(opt.outputs.results, data, 0o644)
			}
			if err != nil {
				fmt.Fprintf(stderr, "shadowtest: --results %s not rewritten: %v\n", opt.outputs.results, err)
			}
		case <-reloads:
			var changes live.ReloadChanges
			next, err := reload()
			if err == nil {
				changes, err = shadow.Reload(next)
			}
			if err == nil {
				err = ramp.reapply(shadow, next) // the ramp's rate stays in force
			}
			if err != nil {
				fmt.Fprintf(stderr, "shadowtest: SIGHUP: spec not reloaded, the old one stays in force: %v\n", err)
			} else {
				fmt.Fprintf(stderr, "shadowtest: SIGHUP: spec reloaded (%s)\n", changes)
			}
		case sig := <-sigs:
			switch sig {
			case killSignal:
				if shadow.Switch().Trip(live.TriggerSignal, "SIGUSR1 received") {
					fmt.Fprintf(stderr, "shadowtest: %s\n", shadow.Switch().Status().LastTrip)
				}
			case resumeSignal:
				if shadow.Switch().Resume() {
					fmt.Fprintln(stderr, "shadowtest: SIGUSR2 received: kill switch reset, mirroring resumed")
				}
			default:
				ended = signalName(sig) + " received"
				break session
			}
		}
	}
	fmt.Fprintf(stderr, "shadowtest: %s: session ended, judging it\n", ended)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	frontServer.Shutdown(ctx) // clients in flight get prod's answer
	cancel()
	shadow.Close()
	adminServer.Close()
	var recordErr error
	if recorder != nil {
		recordErr = closeRecorder(recorder, opt.record, stderr)
	}

	var sessionErr error
	if st := shadow.Switch().Status(); st.Killed {
		sessionErr = &runner.AbortError{Reason: st.LastTrip + " (still tripped when the session ended)"}
		results.Snapshot(func(r *observe.Results) { r.Aborted = st.LastTrip })
	}
	// The session is judged by the endpoints it had: those in force and
	// those a reload removed after they measured something, under the
	// thresholds in force at the end.
	judged := shadow.SessionPlan()
	judged.Report = plan.Report // the outputs' redaction is the session's start's
	out.plan = judged
	results.Snapshot(func(r *observe.Results) { r.SpecDigest = framework.SpecDigest(judged) })
	term := console(opt.outputs, stdout, stderr)
	outcome, err := suite.Run(context.Background(), suite.Config{
		Plan:           judged,
		Results:        results,
		Replay:         func(context.Context) error { return sessionErr },
		IsAbort:        isAbort,
		NoColor:        !report.UseColor(os.Stdout),
		Baseline:       out.baseline,
		BaselineMargin: plan.Report.BaselineMargin,
	})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	if outcome.ReplayErr != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", outcome.ReplayErr)
	}
	files, failed := out.finish(outcome)
	if recordErr != nil {
		failed = append(failed, recordErr) // a recording with holes is an output not written
	}
	summary := report.Summary{Results: results, Verdicts: suite.Verdicts(outcome.Report), Files: files, Color: useColor(term, stdout)}
	fmt.Fprintln(term)
	summary.Write(term)
	writeFeedCounts(term, results, runner.FeedOptions{})
	warnScrubberFull(stderr, scrubberOf(stdout))
	return reportWriteFailures(stderr, "shadowtest", failed, exitCode(outcome))
}

// resultsJSON is the results so far, as --results holds them.
func resultsJSON(results *observe.Results) ([]byte, error) {
	var buf bytes.Buffer
	err := results.Write(&buf)
	return buf.Bytes(), err
}

// openRecorder starts --record, or returns nil without it.
func openRecorder(opt proxyOptions, out *outputs, stdout, stderr io.Writer) (*live.Recorder, error) {
	if opt.record == "" {
		return nil, nil
	}
	if !(opt.recordRate > 0 && opt.recordRate <= 1) {
		return nil, fmt.Errorf("--record-rate %v: want 0 < rate <= 1", opt.recordRate)
	}
	if err := notAnInput(opt.record, inputFiles(out.plan, false)); err != nil {
		return nil, fmt.Errorf("--record %s: %w", opt.record, err)
	}
	maxSize, err := humanize.ParseBytes(opt.recordMaxSize)
	if err != nil || maxSize < 1024 || maxSize > 1<<50 {
		return nil, fmt.Errorf("--record-max-size %q: want a size of at least 1KiB, e.g. 64MiB or 500MB", opt.recordMaxSize)
	}
	if opt.recordMaxFiles < 0 {
		return nil, fmt.Errorf("--record-max-files %d: want 0 (keep all) or more", opt.recordMaxFiles)
	}
	if opt.recordMaxAge < minInterval {
		// The recorder wakes up every max age (at most every second):
		// --record-max-age 1ns kept a core busy while the proxy was idle.
		return nil, fmt.Errorf("--record-max-age %s: want at least %s, e.g. 10m", opt.recordMaxAge, minInterval)
	}
	recorder, err := live.OpenRecorder(opt.record, live.RecordOptions{Rate: opt.recordRate, MaxSize: int64(maxSize), MaxFiles: opt.recordMaxFiles, MaxAge: opt.recordMaxAge, Log: stderr, WireRPCs: opt.recordWireRPCs},
		out.redactor, scrubberOf(stdout))
	var locked *live.RecordLockedError
	if errors.As(err, &locked) {
		return nil, fmt.Errorf("--record %s: %w", opt.record, err)
	}
	if err != nil {
		return nil, fmt.Errorf("--record %s cannot be written: %w", opt.record, unwrapPath(err))
	}
	return recorder, nil
}

// closeRecorder finishes the recording and says what it holds. Its error
// says the recording is not whole: exchanges lost to a failing disk (or a
// file deleted while it was written), which must not end the session green.
func closeRecorder(recorder *live.Recorder, target string, stderr io.Writer) error {
	err := recorder.Close()
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: --record %s: %v\n", target, err)
	}
	c := recorder.Counts()
	where := target
	if live.IsRecordDir(target) {
		where = fmt.Sprintf("%d file(s) in %s", c.Files, target)
	}
	fmt.Fprintf(stderr, "shadowtest: recorded %d exchange(s) to %s (%d dropped: queue full; %d lost: write failed; %d withheld: not redactable, cut at the body cap, or prod failed)\n",
		c.Written, where, c.Dropped, c.Failed, c.Withheld)
	if err != nil || c.Failed > 0 {
		return fmt.Errorf("--record %s not written whole: %d exchange(s) lost to write failures (see above)", target, c.Failed)
	}
	return nil
}

// unwrapPath drops an *os.PathError's operation and path, which the
// message already names.
func unwrapPath(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}
