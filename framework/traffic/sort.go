package traffic

import (
	"bufio"
	"container/heap"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// SortOptions bound the memory Sort uses.
type SortOptions struct {
	// RunRecords is the most exchanges held in memory at once
	// (DefaultRunRecords when 0).
	RunRecords int
	// RunBytes bounds the memory the exchanges of one run hold, as
	// estimated from their bodies, URLs and headers (DefaultRunBytes when
	// 0).
	RunBytes int64
	// TempDir holds the spilled runs (os.TempDir() when empty).
	TempDir string
}

// The defaults of SortOptions.
const (
	DefaultRunRecords = 50000
	DefaultRunBytes   = 64 << 20
)

// Sort returns a Reader that yields r's exchanges ordered by Exchange.Time,
// keeping the order of equal times (a stable sort), in bounded memory: an
// external merge sort. Exchanges are read into a run of at most RunRecords
// exchanges and RunBytes of bodies; a file that fits in one run is sorted
// in memory, otherwise each full run is sorted and spilled to a temporary
// file (unlinked at once, so nothing is left behind even after a crash)
// and the runs are merged, holding one exchange per run in memory. A
// multi-gigabyte HAR thus needs about RunBytes of memory and as much
// temporary disk as the file's bodies.
//
// Record errors (*RecordError) are passed on as they are met, before any
// exchange. Any other error, or a record error the source repeats (it
// cannot go on, as after broken JSON), ends the reading: the exchanges
// read so far are yielded in order, then the error, for good.
func Sort(r Reader, opt SortOptions) Reader {
	if opt.RunRecords <= 0 {
		opt.RunRecords = DefaultRunRecords
	}
	if opt.RunBytes <= 0 {
		opt.RunBytes = DefaultRunBytes
	}
	return &sorter{src: r, opt: opt}
}

type sorter struct {
	src     Reader
	opt     SortOptions
	err     error // sticky
	read    bool  // the source is exhausted
	lastErr error // the last record error, to notice one that repeats
	final   error // the error that ended the source, returned after the exchanges

	run      []sortItem // the run being filled, then the last run
	runBytes int64
	seq      int64
	spilled  []*runFile
	merge    mergeHeap
	merging  bool
}

type sortItem struct {
	seq int64
	ex  framework.Exchange
}

func (s *sorter) Next() (framework.Exchange, error) {
	if s.err != nil {
		return framework.Exchange{}, s.err
	}
	for !s.read {
		ex, err := s.src.Next()
		if errors.Is(err, io.EOF) {
			s.read = true
			if err := s.startMerge(); err != nil {
				s.err = err
				return framework.Exchange{}, err
			}
			break
		}
		if err != nil {
			var recordErr *RecordError
			if errors.As(err, &recordErr) && err != s.lastErr {
				s.lastErr = err
				return framework.Exchange{}, err
			}
			// The source cannot go on (a file-level error, or a record it
			// repeats, as after broken JSON): yield what was read, then
			// end with the error, as the source itself does.
			s.read, s.final = true, err
			if err := s.startMerge(); err != nil {
				s.err = err
				return framework.Exchange{}, err
			}
			continue
		}
		s.seq++
		s.run = append(s.run, sortItem{seq: s.seq, ex: ex})
		s.runBytes += approxSize(&ex)
		if len(s.run) >= s.opt.RunRecords || s.runBytes >= s.opt.RunBytes {
			if err := s.spill(); err != nil {
				s.err = err
				return framework.Exchange{}, err
			}
		}
	}
	if len(s.merge) == 0 {
		if s.final != nil {
			s.err = s.final
			return framework.Exchange{}, s.final
		}
		return framework.Exchange{}, io.EOF
	}
	top := s.merge[0]
	ex := top.item.ex
	if err := top.advance(); err != nil {
		s.err = err
		return framework.Exchange{}, err
	}
	if top.done {
		heap.Pop(&s.merge)
	} else {
		heap.Fix(&s.merge, 0)
	}
	return ex, nil
}

func (s *sorter) Close() error {
	for _, f := range s.spilled {
		f.file.Close()
	}
	s.spilled = nil
	return s.src.Close()
}

// approxSize estimates the memory an exchange holds: its bodies, strings
// and headers, plus the fixed cost of the structs and maps.
func approxSize(ex *framework.Exchange) int64 {
	n := 512 + len(ex.Origin) + len(ex.Request.URL) + len(ex.Request.Body) + headerSize(ex.Request.Header)
	if ex.Recorded != nil {
		n += 256 + len(ex.Recorded.Body) + headerSize(ex.Recorded.Header)
	}
	return int64(n)
}

func headerSize(h http.Header) int {
	n := 0
	for name, values := range h {
		n += 64 + len(name)
		for _, v := range values {
			n += 16 + len(v)
		}
	}
	return n
}

func lessItem(a, b sortItem) int {
	if c := a.ex.Time.Compare(b.ex.Time); c != 0 {
		return c
	}
	switch {
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

// spill sorts the current run and writes it to an unlinked temporary file.
func (s *sorter) spill() error {
	slices.SortFunc(s.run, lessItem)
	f, err := os.CreateTemp(s.opt.TempDir, "shadowtest-sort-*")
	if err != nil {
		return fmt.Errorf("sorting by time: %w", err)
	}
	os.Remove(f.Name()) // the open file stays readable
	w := bufio.NewWriterSize(f, 1<<20)
	enc := gob.NewEncoder(w)
	for _, item := range s.run {
		if err := enc.Encode(toSpilled(item)); err != nil {
			f.Close()
			return fmt.Errorf("sorting by time: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("sorting by time: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("sorting by time: %w", err)
	}
	s.spilled = append(s.spilled, &runFile{file: f, dec: gob.NewDecoder(bufio.NewReaderSize(f, 256<<10))})
	clear(s.run)
	s.run, s.runBytes = s.run[:0], 0
	return nil
}

// startMerge sorts the last run and puts the head of every run on the heap.
func (s *sorter) startMerge() error {
	slices.SortFunc(s.run, lessItem)
	cursors := make([]*cursor, 0, len(s.spilled)+1)
	if len(s.run) > 0 {
		cursors = append(cursors, &cursor{memory: s.run})
	}
	for _, f := range s.spilled {
		cursors = append(cursors, &cursor{file: f})
	}
	for _, c := range cursors {
		if err := c.advance(); err != nil {
			return err
		}
		if !c.done {
			s.merge = append(s.merge, c)
		}
	}
	heap.Init(&s.merge)
	return nil
}

type runFile struct {
	file *os.File
	dec  *gob.Decoder
}

// cursor walks one sorted run, in memory or spilled.
type cursor struct {
	memory []sortItem
	file   *runFile
	item   sortItem
	done   bool
}

func (c *cursor) advance() error {
	if c.file == nil {
		if len(c.memory) == 0 {
			c.done = true
			return nil
		}
		c.item = c.memory[0]
		c.memory[0] = sortItem{}
		c.memory = c.memory[1:]
		return nil
	}
	var sp spilledExchange
	if err := c.file.dec.Decode(&sp); err != nil {
		if errors.Is(err, io.EOF) {
			c.done = true
			c.file.file.Close()
			return nil
		}
		return fmt.Errorf("sorting by time: reading a spilled run: %w", err)
	}
	c.item = sp.item()
	return nil
}

type mergeHeap []*cursor

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return lessItem(h[i].item, h[j].item) < 0 }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// spilledExchange is an exchange as written to a run file; a recorded
// response from a reader never has a transport error, so Err is not kept.
type spilledExchange struct {
	Seq         int64
	Origin      string
	Time        time.Time
	Method, URL string
	Host        string
	Header      http.Header
	Body        []byte
	Recorded    bool
	Status      int
	Latency     time.Duration
	RecHeader   http.Header
	RecBody     []byte
}

func toSpilled(item sortItem) spilledExchange {
	ex := item.ex
	sp := spilledExchange{Seq: item.seq, Origin: ex.Origin, Time: ex.Time, Method: ex.Request.Method,
		URL: ex.Request.URL, Host: ex.Request.Host, Header: ex.Request.Header, Body: ex.Request.Body}
	if ex.Recorded != nil {
		sp.Recorded, sp.Status, sp.Latency, sp.RecHeader, sp.RecBody = true, ex.Recorded.Status, ex.Recorded.Latency, ex.Recorded.Header, ex.Recorded.Body
	}
	return sp
}

func (sp spilledExchange) item() sortItem {
	ex := framework.Exchange{Origin: sp.Origin, Time: sp.Time,
		Request: framework.Request{Method: sp.Method, URL: sp.URL, Host: sp.Host, Header: sp.Header, Body: nonEmpty(sp.Body)}}
	if sp.Recorded {
		ex.Recorded = &framework.Response{Status: sp.Status, Latency: sp.Latency, Header: sp.RecHeader, Body: nonEmpty(sp.RecBody)}
	}
	return sortItem{seq: sp.Seq, ex: ex}
}
