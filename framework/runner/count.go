package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// Count reads the plan's traffic once, without sending anything, and
// returns the number of records, for a progress line's total and ETA. It
// stops early, returning what it counted, when ctx ends; a traffic error is
// left for the run itself to report.
func Count(ctx context.Context, plan *framework.Plan) (int64, error) {
	var n int64
	for _, src := range plan.Traffic {
		if lines, ok, err := countLines(ctx, src, plan.Dir); ok {
			n += lines
			if err != nil {
				return n, err
			}
			continue
		}
		reader, err := traffic.OpenInFileOrder(src, plan.Dir) // counting needs no order: never sort a HAR twice
		if err != nil {
			return n, err
		}
		reader = traffic.WarnCutShort(reader, nil) // the run itself warns
		for {
			if n%1024 == 0 && ctx.Err() != nil {
				reader.Close()
				return n, ctx.Err()
			}
			if _, err := reader.Next(); err != nil {
				reader.Close()
				if errors.Is(err, io.EOF) {
					break
				}
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// countLines counts the non-blank lines of a plain JSONL file, one record
// each, without decoding them: a million-record file takes a fraction of a
// second instead of a full parse. It reports ok false for other sources
// (other formats, globs, gzipped files), which are read record by record.
func countLines(ctx context.Context, src framework.TrafficSource, dir string) (n int64, ok bool, err error) {
	if src.Format != "jsonl" || strings.ContainsAny(src.Path, "*?[") || strings.HasSuffix(src.Path, ".gz") {
		return 0, false, nil
	}
	path := src.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	// Only a regular file: opening a FIFO waits for a writer and /dev/zero
	// never ends, and the run waits for its count (the reader refuses them).
	if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
		return 0, false, nil // let the reader report it
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, false, nil // let the reader report it
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	blank := true // the current line has only whitespace so far
	for {
		if ctx.Err() != nil {
			return n, true, ctx.Err()
		}
		k, err := f.Read(buf)
		chunk := buf[:k]
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			line := chunk
			if i >= 0 {
				line = chunk[:i]
			}
			if blank && len(bytes.TrimSpace(line)) > 0 {
				blank = false
			}
			if i < 0 {
				break
			}
			if !blank {
				n++
			}
			blank = true
			chunk = chunk[i+1:]
		}
		if errors.Is(err, io.EOF) {
			if !blank {
				n++ // a last line without a newline
			}
			return n, true, nil
		}
		if err != nil {
			return n, true, err
		}
	}
}
