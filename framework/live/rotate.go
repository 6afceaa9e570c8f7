package live

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults of a recording directory (OpenRecorder).
const (
	// DefaultRecordMaxSize is the size at which a directory's file is
	// closed and the next one started.
	DefaultRecordMaxSize = 64 << 20
	// DefaultRecordMaxAge closes a directory's file that has been open
	// this long, full or not.
	DefaultRecordMaxAge = 10 * time.Minute
	// recordHoldOff is how long a recorder whose write failed waits before
	// it tries a new file: a full disk is not hammered for every request.
	recordHoldOff = time.Second
	// recordBuffer is the write buffer under the compressor; small enough
	// that a failing disk shows up soon.
	recordBuffer = 32 << 10
)

// Names of the files in a recording directory: RecordFilePrefix, the UTC
// time the file was started (RecordTimeLayout), a sequence number, and
// RecordFileSuffix. Their names sort in time order.
const (
	RecordFilePrefix = "shadowtest-"
	RecordFileSuffix = ".jsonl.gz"
	RecordTimeLayout = "20060102T150405.000Z"
)

// errHeldOff is the write of a line while the recorder waits after a
// failure: the line is lost and counted, nothing is logged again.
var errHeldOff = errors.New("waiting after a write failure")

// lostLines is a failure that is not the fault of the line being written
// (a file that could not be finished): it is logged and counted as a write
// error, and its lines were already counted as lost.
type lostLines struct{ error }

func (l *lostLines) Unwrap() error { return l.error }

// writeFile is the temporary file a recording is written to.
type writeFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

func createTemp(dir, pattern string) (writeFile, error) { return os.CreateTemp(dir, pattern) }

// segment is one file's stream: lines, then gzip (optional), then a
// counter of the bytes that reach the file, then a write buffer.
type segment struct {
	top     io.Writer
	zw      *gzip.Writer
	buf     *bufio.Writer
	size    *countingWriter
	lines   int64
	started time.Time
	// flushEvery, when set, flushes the compressor after this many bytes
	// of lines, so that size counts nearly all that was written: the
	// compressor otherwise holds tens of kilobytes.
	flushEvery, unflushed int
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newSegment(w io.Writer, gz bool) *segment {
	s := &segment{buf: bufio.NewWriterSize(w, recordBuffer)}
	s.size = &countingWriter{w: s.buf}
	s.top = s.size
	if gz {
		s.zw = gzip.NewWriter(s.size)
		s.top = s.zw
	}
	return s
}

func (s *segment) write(line []byte) error {
	if _, err := s.top.Write(line); err != nil {
		return err
	}
	if s.unflushed += len(line); s.flushEvery > 0 && s.unflushed >= s.flushEvery && s.zw != nil {
		s.unflushed = 0
		if err := s.zw.Flush(); err != nil {
			return err
		}
	}
	s.lines++ // only once it is written: a failed line is counted by the recorder
	return nil
}

// finish ends the gzip stream and flushes the buffer.
func (s *segment) finish() error {
	if s.zw != nil {
		if err := s.zw.Close(); err != nil {
			return err // the buffer's error, once
		}
	}
	return s.buf.Flush()
}

// streamSink writes every line to one io.WriteCloser (NewRecorder).
type streamSink struct {
	r      *Recorder
	s      *segment
	closer io.Closer
	name   string
	broken bool
}

func (s *streamSink) describe() string { return s.name }
func (s *streamSink) tick() error      { return nil }

func (s *streamSink) write(line []byte) error {
	if s.broken {
		return errHeldOff
	}
	if err := s.s.write(line); err != nil {
		s.broken = true
		s.r.lose(s.s)
		return err
	}
	s.r.pending.Add(1)
	return nil
}

func (s *streamSink) close() error {
	err := s.s.finish()
	if s.closer != nil {
		err = errors.Join(err, s.closer.Close())
	}
	if err != nil || s.broken {
		s.r.lose(s.s)
		return errors.Join(err, errors.New("the recording is incomplete: see the write failure above"))
	}
	s.r.done1(s.s)
	return nil
}

// fileSink writes one file under a hidden temporary name and renames it
// into place at close; a target that exists and is not a regular file (a
// device, a pipe) is written directly.
type fileSink struct {
	streamSink
	file   writeFile
	target string
	direct bool
}

func newFileSink(target string, opt RecordOptions, r *Recorder) (*fileSink, error) {
	gz := strings.HasSuffix(target, ".gz")
	f := &fileSink{target: target, streamSink: streamSink{r: r, name: target}}
	if info, err := os.Stat(target); err == nil && !info.Mode().IsRegular() {
		file, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		f.file, f.direct = file, true
	} else {
		file, err := opt.create(filepath.Dir(target), "."+filepath.Base(target)+".*")
		if err != nil {
			return nil, err
		}
		f.file = file
	}
	f.s = newSegment(f.file, gz)
	return f, nil
}

func (f *fileSink) close() error {
	err := f.s.finish()
	if !f.direct && err == nil && !f.broken {
		err = f.file.Sync()
	}
	err = errors.Join(err, f.file.Close())
	if err != nil || f.broken {
		f.r.lose(f.s)
		if !f.direct {
			os.Remove(f.file.Name())
		}
		return errors.Join(err, fmt.Errorf("%s not written: the recording is incomplete", f.target))
	}
	if !f.direct {
		os.Chmod(f.file.Name(), 0o644)
		if err := os.Rename(f.file.Name(), f.target); err != nil {
			f.r.lose(f.s)
			os.Remove(f.file.Name())
			return err
		}
	}
	f.r.done1(f.s)
	return nil
}

// dirSink writes rotated gzipped files into a directory.
type dirSink struct {
	r        *Recorder
	dir      string
	maxSize  int64
	maxFiles int
	maxAge   time.Duration
	now      func() time.Time
	create   func(dir, pattern string) (writeFile, error)
	seq      int
	cur      *segment
	file     writeFile
	retryAt  time.Time
}

func newDirSink(dir string, opt RecordOptions, r *Recorder) (*dirSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &dirSink{r: r, dir: dir, maxSize: opt.MaxSize, maxFiles: opt.MaxFiles, maxAge: opt.MaxAge, now: opt.now, create: opt.create}
	if d.maxSize <= 0 {
		d.maxSize = DefaultRecordMaxSize
	}
	if d.maxAge <= 0 {
		d.maxAge = DefaultRecordMaxAge
	}
	// The directory must take files now, not at the first request.
	probe, err := os.CreateTemp(dir, ".shadowtest-probe-*")
	if err != nil {
		return nil, err
	}
	probe.Close()
	os.Remove(probe.Name())
	d.removeStale()
	return d, nil
}

// removeStale deletes the hidden files that recorders killed before they
// could finish them left behind. A file twice as old as MaxAge cannot be
// a live recorder's: that one would have been finished by now.
func (d *dirSink) removeStale() {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "."+RecordFilePrefix) || !strings.Contains(name, RecordFileSuffix+".") || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil && d.now().Sub(info.ModTime()) > 2*d.maxAge {
			os.Remove(filepath.Join(d.dir, name))
		}
	}
}

func (d *dirSink) describe() string { return d.dir }

func (d *dirSink) write(line []byte) error {
	if d.cur == nil {
		if d.now().Before(d.retryAt) {
			return errHeldOff
		}
		if err := d.open(); err != nil {
			d.retryAt = d.now().Add(recordHoldOff)
			return err
		}
	}
	if err := d.cur.write(line); err != nil {
		d.abandon()
		return err
	}
	d.r.pending.Add(1)
	if d.cur.size.n >= d.maxSize {
		if err := d.finish(); err != nil {
			return &lostLines{err}
		}
	}
	return nil
}

func (d *dirSink) tick() error {
	if d.cur != nil && d.now().Sub(d.cur.started) >= d.maxAge {
		if err := d.finish(); err != nil {
			return &lostLines{err}
		}
	}
	return nil
}

func (d *dirSink) close() error {
	if d.cur == nil {
		return nil
	}
	return d.finish()
}

func (d *dirSink) open() error {
	d.seq++
	file, err := d.create(d.dir, "."+d.name()+".*")
	if err != nil {
		return err
	}
	d.file, d.cur = file, newSegment(file, true)
	d.cur.started = d.now()
	// A file ends at most an eighth of its size past it (and the line
	// that crossed it); flushing every MiB costs nothing measurable.
	d.cur.flushEvery = int(min(max(d.maxSize/8, 256), 1<<20))
	return nil
}

// name is the current file's final name.
func (d *dirSink) name() string {
	return fmt.Sprintf("%s%s-%06d%s", RecordFilePrefix, d.now().UTC().Format(RecordTimeLayout), d.seq, RecordFileSuffix)
}

// abandon drops the current file after a failure: its lines are lost, and
// no new file is tried before the hold-off.
func (d *dirSink) abandon() {
	d.r.lose(d.cur)
	d.file.Close()
	os.Remove(d.file.Name())
	d.cur, d.file = nil, nil
	d.retryAt = d.now().Add(recordHoldOff)
}

// finish completes the current file and renames it into place, never over
// an existing recording, then deletes the oldest past MaxFiles.
func (d *dirSink) finish() error {
	err := d.cur.finish()
	if err == nil {
		err = d.file.Sync()
	}
	if err != nil {
		d.abandon()
		return err
	}
	if err := d.file.Close(); err != nil {
		d.file = nopCloseFile{d.file}
		d.abandon()
		return err
	}
	tmp := d.file.Name()
	final := filepath.Join(d.dir, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(tmp), "."), filepath.Ext(tmp)))
	for {
		if _, err := os.Lstat(final); errors.Is(err, os.ErrNotExist) {
			break
		}
		d.seq++ // another session's file of the same millisecond
		final = filepath.Join(d.dir, d.name())
	}
	os.Chmod(tmp, 0o644)
	if err := os.Rename(tmp, final); err != nil {
		d.file = nopCloseFile{d.file}
		d.abandon()
		return err
	}
	d.r.done1(d.cur)
	d.cur, d.file = nil, nil
	d.prune()
	d.removeStale()
	return nil
}

// prune deletes the oldest recordings past maxFiles.
func (d *dirSink) prune() {
	if d.maxFiles <= 0 {
		return
	}
	names, err := RecordFiles(d.dir)
	if err != nil {
		return
	}
	for _, name := range names[:max(len(names)-d.maxFiles, 0)] {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.r.writeErrors.Add(1)
			fmt.Fprintf(d.r.log, "shadowtest: --record %s: the oldest recording could not be deleted (--record-max-files %d): %v\n", d.dir, d.maxFiles, err)
		}
	}
}

// RecordFiles returns the finished recordings of a recording directory,
// oldest first (their names sort in time order); hidden files (a file
// still being written, or left by a killed proxy) are not among them.
func RecordFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, RecordFilePrefix) && strings.HasSuffix(n, RecordFileSuffix) {
			names = append(names, filepath.Join(dir, n))
		}
	}
	return names, nil
}

// nopCloseFile is a file already closed.
type nopCloseFile struct{ writeFile }

func (nopCloseFile) Close() error { return nil }

// lose counts a file's lines as lost to a write failure.
func (r *Recorder) lose(s *segment) {
	r.failed.Add(s.lines)
	r.pending.Add(-s.lines)
	s.lines = 0
}

// done1 counts a finished file.
func (r *Recorder) done1(s *segment) {
	r.written.Add(s.lines)
	r.pending.Add(-s.lines)
	s.lines = 0
	r.files.Add(1)
}
