package traffic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// Reader streams the exchanges of one recording, in file order.
type Reader interface {
	// Next returns the next exchange, or io.EOF after the last one.
	//
	// A *RecordError reports one malformed record; the next call moves on
	// to the following record, except when the JSON itself is broken
	// (truncated or invalid syntax in a HAR file): then the stream cannot
	// be resynchronised and Next returns the same error again. Any other
	// error concerns the whole file (not a HAR file, a read failure) and
	// is also returned again by later calls.
	Next() (framework.Exchange, error)
	// Close releases the file opened by Open. Readers made by NewHARReader
	// and NewJSONLReader do not close the io.Reader they were given.
	Close() error
}

// RecordError reports a malformed record: which file, which record, and
// what is wrong with it, for example
//
//	fixtures/traffic/demo.har: entry 12: request.method: missing
type RecordError struct {
	// File is the name the reader was given, usually the file's path.
	File string
	// Record is the 1-based number of the record: the position of the
	// entry in the HAR log.entries array (the first entry is 1), the
	// line number in a JSONL file (blank lines count), or the record's
	// position in a GoReplay file.
	Record int
	// Unit is "entry" for HAR files, "line" for JSONL files and "record"
	// for GoReplay files.
	Unit string
	// Err says what is wrong, starting with the field when one is at
	// fault ("request.method: missing").
	Err error
}

// Error formats the error as "file: unit N: problem".
func (e *RecordError) Error() string {
	return fmt.Sprintf("%s: %v", origin(e.File, e.Unit, e.Record), e.Err)
}

// Unwrap returns the underlying problem.
func (e *RecordError) Unwrap() error { return e.Err }

// origin names a record for Exchange.Origin and RecordError.
func origin(file, unit string, record int) string {
	return fmt.Sprintf("%s: %s %d", file, unit, record)
}

// Open opens the recording src names, resolving a relative src.Path
// against dir (the spec directory), and returns the reader for src.Format:
// "har" (entries sorted by startedDateTime, see Sort), "gor" or "jsonl".
// A path with glob characters (*, ?, [) names every matching file, read
// one after the other in name order; a file whose name ends in ".gz" is
// gunzipped as it is read. Records name the file by the resolved path.
func Open(src framework.TrafficSource, dir string) (Reader, error) {
	path := src.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	newReader, ok := readers[src.Format]
	if !ok {
		return nil, fmt.Errorf("%straffic %s: unknown format %q (want \"har\", \"gor\" or \"jsonl\")", positionPrefix(src.Pos), path, src.Format)
	}
	if !strings.ContainsAny(src.Path, "*?[") {
		return OpenFile(path, newReader, src.Pos)
	}
	files, err := filepath.Glob(path)
	if err != nil {
		return nil, fmt.Errorf("%straffic %s: %w", positionPrefix(src.Pos), path, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%straffic %s: no file matches", positionPrefix(src.Pos), path)
	}
	return &globReader{files: files, newReader: newReader, pos: src.Pos}, nil
}

// readers maps a format to its reader; HAR entries are sorted.
var readers = map[string]func(io.Reader, string) Reader{
	"har":   func(r io.Reader, name string) Reader { return Sort(NewHARReader(r, name), SortOptions{}) },
	"gor":   NewGorReader,
	"jsonl": NewJSONLReader,
}

// NewReader returns the reader of a format ("har", "gor", "jsonl") over r,
// as Open would, without sorting HAR entries; nil for an unknown format.
func NewReader(format string, r io.Reader, name string) Reader {
	switch format {
	case "har":
		return NewHARReader(r, name)
	case "gor":
		return NewGorReader(r, name)
	case "jsonl":
		return NewJSONLReader(r, name)
	}
	return nil
}

// FormatOf guesses a file's format from its name: ".har", ".gor" and
// ".jsonl" (also ".ndjson"), with an optional ".gz"; "" when unknown.
func FormatOf(path string) string {
	name := strings.TrimSuffix(strings.ToLower(path), ".gz")
	switch filepath.Ext(name) {
	case ".har":
		return "har"
	case ".gor":
		return "gor"
	case ".jsonl", ".ndjson":
		return "jsonl"
	}
	return ""
}

// OpenFile opens one file with the given reader constructor, gunzipping it
// when its name ends in ".gz" or its content starts with the gzip magic
// bytes. pos, when set, prefixes errors about the file.
func OpenFile(path string, newReader func(io.Reader, string) Reader, pos framework.Position) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the path is already in the message
		}
		return nil, fmt.Errorf("%straffic file %s: %w", positionPrefix(pos), path, err)
	}
	br := bufio.NewReaderSize(f, 256<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); strings.HasSuffix(path, ".gz") || bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%straffic file %s: gzip: %w", positionPrefix(pos), path, err)
		}
		src = &gzipErrors{zr: zr, name: path}
	}
	return &fileReader{Reader: newReader(src, path), file: f}, nil
}

// gzipErrors names the file in a decompression error, which would
// otherwise look like a problem with one record.
type gzipErrors struct {
	zr   *gzip.Reader
	name string
}

func (g *gzipErrors) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}

// globReader reads several files one after the other.
type globReader struct {
	files     []string
	newReader func(io.Reader, string) Reader
	pos       framework.Position
	current   Reader
	err       error
}

func (g *globReader) Next() (framework.Exchange, error) {
	for g.err == nil {
		if g.current == nil {
			if len(g.files) == 0 {
				return framework.Exchange{}, io.EOF
			}
			r, err := OpenFile(g.files[0], g.newReader, g.pos)
			g.files = g.files[1:]
			if err != nil {
				g.err = err
				break
			}
			g.current = r
		}
		ex, err := g.current.Next()
		if errors.Is(err, io.EOF) {
			if err := g.current.Close(); err != nil {
				g.err = err
			}
			g.current = nil
			continue
		}
		return ex, err
	}
	return framework.Exchange{}, g.err
}

func (g *globReader) Close() error {
	if g.current != nil {
		return g.current.Close()
	}
	return nil
}

func positionPrefix(pos framework.Position) string {
	if pos.File == "" {
		return ""
	}
	return pos.String() + ": "
}

// fileReader closes the file Open opened.
type fileReader struct {
	Reader
	file *os.File
}

func (r *fileReader) Close() error {
	r.Reader.Close()
	return r.file.Close()
}
