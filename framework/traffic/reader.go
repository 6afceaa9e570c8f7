package traffic

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
	// entry in the HAR log.entries array (the first entry is 1), or the
	// line number in a JSONL file (blank lines count).
	Record int
	// Unit is "entry" for HAR files and "line" for JSONL files.
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
// "har" or "jsonl". Records name the file by the resolved path.
func Open(src framework.TrafficSource, dir string) (Reader, error) {
	path := src.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	var newReader func(io.Reader, string) Reader
	switch src.Format {
	case "har":
		newReader = NewHARReader
	case "jsonl":
		newReader = NewJSONLReader
	default:
		return nil, fmt.Errorf("%straffic %s: unknown format %q (want \"har\" or \"jsonl\")", positionPrefix(src.Pos), path, src.Format)
	}
	f, err := os.Open(path)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the path is already in the message
		}
		return nil, fmt.Errorf("%straffic file %s: %w", positionPrefix(src.Pos), path, err)
	}
	return &fileReader{Reader: newReader(f, path), file: f}, nil
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
