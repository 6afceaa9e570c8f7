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
	// RecordFlushEvery is how often a recorder hands what it wrote to the
	// file and syncs it: a proxy killed without warning (or a crash)
	// loses at most this much of its recording.
	RecordFlushEvery = time.Second
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

// writeFile is the file a recording is written to.
type writeFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
	Stat() (os.FileInfo, error)
}

// recordFileMode is the mode recordings are created with: they hold
// production traffic (secrets masked, personal data not), so only their
// owner reads them; a shared host's other users did with 0644.
const recordFileMode = 0o600

// createFile creates a new recording file, never over an existing one.
func createFile(path string) (writeFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, recordFileMode)
}

// Bounds of the gzip stream around the compressed lines, for a file that
// must not pass its size (segment.bound): the header, the final block
// and the trailer, the marker of one flush, and the header of each
// deflate block of incompressible data (at most 5 bytes per 16 KiB of
// input; counted as 8).
const gzipSlack = 64

// segment is one file's stream: lines, then gzip (optional), then a
// counter of the bytes the compressor gave out, then a write buffer.
// Lines reach the file at flush (every second, see Recorder) or when the
// buffer is full, always as a stream that a reader can decompress up to
// the last flush.
type segment struct {
	top     io.Writer
	zw      *gzip.Writer
	buf     *bufio.Writer
	size    *countingWriter
	lines   int64
	started time.Time
	// unflushed counts the bytes of lines written since the last flush,
	// which the compressor may still hold; dirty says the file has bytes
	// not yet synced to the disk.
	unflushed int64
	dirty     bool
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
	s.unflushed += int64(len(line))
	s.dirty = true
	s.lines++ // only once it is written: a failed line is counted by the recorder
	return nil
}

// flush hands every line written so far to the file: the compressor ends
// its block with a sync marker, and the buffer is written out.
func (s *segment) flush() error {
	if s.zw != nil && s.unflushed > 0 {
		if err := s.zw.Flush(); err != nil {
			return err
		}
	}
	s.unflushed = 0
	return s.buf.Flush()
}

// bound is at least the size of the file once n more bytes of lines are
// written and it is finished: exact for what the compressor gave out,
// and for what it holds the worst case of deflate (data that does not
// compress is stored, 5 bytes per block).
func (s *segment) bound(n int64) int64 {
	pending := s.unflushed + n
	if s.zw == nil {
		return s.size.n + pending
	}
	return s.size.n + pending + pending>>11 + gzipSlack
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

// ours reports whether path still names the open file f: a recording
// whose file was deleted (or its directory removed or replaced) goes on
// writing to a file nobody can read, and must be counted as lost.
func ours(f writeFile, path string) error {
	mine, err := f.Stat()
	if err != nil {
		return err
	}
	there, err := os.Stat(path)
	if err == nil && os.SameFile(mine, there) {
		return nil
	}
	return fmt.Errorf("%s was deleted or replaced while it was being written (is its directory gone?): its exchanges are lost", path)
}

// syncFile makes a file's lines readable and durable: flushed to the file,
// synced to the disk, and the file still where readers look for it.
func syncFile(s *segment, f writeFile, path string) error {
	if err := s.flush(); err != nil {
		return err
	}
	if s.dirty {
		if err := f.Sync(); err != nil {
			return err
		}
		s.dirty = false
	}
	return ours(f, path)
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

func (s *streamSink) tick() error {
	if s.broken {
		return nil
	}
	if err := s.s.flush(); err != nil {
		s.broken = true
		s.r.lose(s.s)
		return &lostLines{err}
	}
	return nil
}

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

// fileSink writes one file, under its own name from the start: every
// second its lines are flushed, so that a proxy killed without warning
// leaves a file that readers read up to the last flush (see
// traffic.ErrCutShort). A target that exists and is not a regular file
// (a device, a pipe) is written as it is.
type fileSink struct {
	streamSink
	file   writeFile
	target string
	direct bool
}

func newFileSink(target string) (*fileSink, error) {
	gz := strings.HasSuffix(target, ".gz")
	f := &fileSink{target: target, streamSink: streamSink{name: target}}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if info, err := os.Stat(target); err == nil && !info.Mode().IsRegular() {
		flags, f.direct = os.O_WRONLY, true
	}
	file, err := os.OpenFile(target, flags, recordFileMode)
	if err != nil {
		return nil, err
	}
	f.file = file
	f.s = newSegment(f.file, gz)
	return f, nil
}

func (f *fileSink) tick() error {
	if f.broken {
		return nil
	}
	err := f.s.flush()
	if err == nil && !f.direct {
		err = syncFile(f.s, f.file, f.target)
	}
	if err != nil {
		f.broken = true
		f.r.lose(f.s)
		return &lostLines{err}
	}
	return nil
}

func (f *fileSink) close() error {
	err := f.s.finish()
	if !f.direct && err == nil && !f.broken {
		err = syncFile(f.s, f.file, f.target)
	}
	err = errors.Join(err, f.file.Close())
	if err != nil || f.broken {
		f.r.lose(f.s)
		if !f.direct && ours(f.file, f.target) == nil {
			os.Remove(f.target) // its lines are counted as lost: none is left to be read
		}
		return errors.Join(err, fmt.Errorf("%s not written: the recording is incomplete", f.target))
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
	create   func(path string) (writeFile, error)
	seq      int
	cur      *segment
	file     writeFile
	path     string // the current file's
	retryAt  time.Time
}

func newDirSink(dir string, opt RecordOptions, r *Recorder) (*dirSink, error) {
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

// removeStale deletes the hidden temporary files that recorders of
// earlier versions, killed before they could finish them, left behind
// (this one writes every file under its own name). A file twice as old
// as MaxAge cannot be a live recorder's.
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
	// Rotate before the line would take the file past maxSize, unless the
	// file is empty: a line larger than maxSize has a file of its own.
	if d.cur != nil && d.cur.lines > 0 && d.cur.bound(int64(len(line))) > d.maxSize {
		err := d.cur.flush() // what the compressor holds tells whether the line still fits
		if err != nil {
			d.abandon()
			return err
		}
		if d.cur.bound(int64(len(line))) > d.maxSize {
			if err := d.finish(); err != nil {
				return err // the line is lost with the file
			}
		}
	}
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
	return nil
}

// tick finishes a file old enough, and makes the current one's lines
// readable and durable.
func (d *dirSink) tick() error {
	if d.cur == nil {
		return nil
	}
	var err error
	if d.now().Sub(d.cur.started) >= d.maxAge {
		err = d.finish()
	} else if err = syncFile(d.cur, d.file, d.path); err != nil {
		d.abandon()
	}
	if err != nil {
		return &lostLines{err}
	}
	return nil
}

func (d *dirSink) close() error {
	if d.cur == nil {
		return nil
	}
	return d.finish()
}

// open creates the next file under its final name; a name taken (another
// session's file of the same millisecond) moves on to the next sequence
// number.
func (d *dirSink) open() error {
	for range 1000 {
		d.seq++
		path := filepath.Join(d.dir, d.name())
		file, err := d.create(path)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		d.file, d.path, d.cur = file, path, newSegment(file, true)
		d.cur.started = d.now()
		return nil
	}
	return fmt.Errorf("no free file name in %s", d.dir)
}

// name is the next file's name.
func (d *dirSink) name() string {
	return fmt.Sprintf("%s%s-%06d%s", RecordFilePrefix, d.now().UTC().Format(RecordTimeLayout), d.seq, RecordFileSuffix)
}

// abandon drops the current file after a failure: its lines are lost
// (counted), the file is deleted, and no new file is tried before the
// hold-off.
func (d *dirSink) abandon() {
	d.r.lose(d.cur)
	if ours(d.file, d.path) == nil {
		os.Remove(d.path) // frees what a full disk holds; a reader would find it cut
	}
	d.file.Close()
	d.cur, d.file = nil, nil
	d.retryAt = d.now().Add(recordHoldOff)
}

// finish completes the current file, then deletes the oldest past
// MaxFiles.
func (d *dirSink) finish() error {
	err := d.cur.finish()
	if err == nil {
		err = syncFile(d.cur, d.file, d.path)
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

// RecordFiles returns the recordings of a recording directory, oldest
// first (their names sort in time order): the finished ones, the one being
// written, and those a killed proxy left unfinished (readable up to their
// last flush, see traffic.ErrCutShort).
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
