package scrub

import (
	"io"
	"sync"
)

// Writer scrubs a stream on its way to an underlying writer. A secret
// split across Write calls is still replaced: the few bytes at the end of a
// write that may start a secret wait for the next write, Flush or Close.
// Safe for concurrent use.
type Writer struct {
	mu       sync.Mutex
	s        *Scrubber
	w        io.Writer
	terminal bool
	pending  []byte
	err      error
}

// Writer returns a Writer that scrubs what is written to w with s's
// values, as they are when each byte is written.
func (s *Scrubber) Writer(w io.Writer) *Writer {
	return &Writer{s: s, w: w}
}

// Terminal returns a Writer for a terminal or a CI console: besides
// scrubbing, it escapes control characters, DEL and bidi overrides that
// arrive in a write (see Terminal), keeping only newlines, tabs, a
// carriage return that starts a write (a progress line redrawn) and colour
// sequences.
func (s *Scrubber) Terminal(w io.Writer) *Writer {
	return &Writer{s: s, w: w, terminal: true}
}

// Scrubber returns the Scrubber the writer uses.
func (w *Writer) Scrubber() *Scrubber { return w.s }

// Write scrubs p and writes what cannot be the start of a secret. It
// reports len(p) written unless the underlying writer failed.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.terminal {
		p = terminalBytes(p)
	}
	w.pending = append(w.pending, p...)
	if w.s == nil {
		w.err = w.emit(w.pending)
		w.pending = w.pending[:0]
		return len(p), w.err
	}
	w.s.mu.RLock()
	out, held := w.s.scrub(w.pending, true)
	w.s.mu.RUnlock()
	if err := w.emit(out[:len(out)-held]); err != nil {
		w.err = err
		return 0, err
	}
	w.pending = append(w.pending[:0], w.pending[len(w.pending)-held:]...)
	return len(p), nil
}

func (w *Writer) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := w.w.Write(b)
	return err
}

// Flush writes the bytes held back, scrubbed.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil || len(w.pending) == 0 {
		return w.err
	}
	w.s.mu.RLock()
	out, _ := w.s.scrub(w.pending, false)
	w.s.mu.RUnlock()
	w.err = w.emit(out)
	w.pending = w.pending[:0]
	return w.err
}

// Close flushes, then closes the underlying writer when it is an
// io.Closer.
func (w *Writer) Close() error {
	err := w.Flush()
	if c, ok := w.w.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
