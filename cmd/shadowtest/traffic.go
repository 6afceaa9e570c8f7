package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shadowtest/shadowtest/framework/traffic"
)

const trafficExamples = `  shadowtest traffic convert capture.har capture.jsonl
  shadowtest traffic convert 'captures/*.gor' all.jsonl.gz
  shadowtest traffic convert --skip-bad-records export.har - | head`

// trafficCommand holds the traffic subcommands; convert is the only one.
func trafficCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "convert" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stdout, "Usage: shadowtest traffic convert IN OUT [flags]\n\nExamples:\n%s\n", trafficExamples)
			return exitPass
		}
		fmt.Fprintln(stderr, "shadowtest traffic: want a subcommand: convert IN OUT")
		return exitInvalid
	}
	return convertCommand(args[1:], stdout, stderr)
}

// convertCommand converts a recording to shadowtest's JSONL format.
func convertCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("traffic convert", "IN OUT [flags]", trafficExamples, stdout, stderr)
	format := fs.String("format", "", "IN's format, har, gor or jsonl (default: from the file name)")
	skipBad := fs.Bool("skip-bad-records", false, "count and skip malformed records instead of stopping with exit 2")
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(positional) != 2 {
		fmt.Fprintln(stderr, "shadowtest traffic convert: want IN and OUT, e.g. shadowtest traffic convert capture.har capture.jsonl (OUT - is stdout)")
		return exitInvalid
	}
	in, outPath := positional[0], positional[1]
	src, err := sourceOf(in, *format)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest traffic convert: %v\n", err)
		return exitInvalid
	}
	reader, err := traffic.Open(src, ".")
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest traffic convert: %v\n", err)
		return exitInvalid
	}
	defer reader.Close()
	reader = traffic.WarnCutShort(reader, func(err error) {
		fmt.Fprintf(stderr, "shadowtest traffic convert: warning: %v\n", err)
	})

	// OUT is written to a temporary file renamed over it at the end, so
	// that a failed conversion leaves no half file and OUT may be IN.
	out, err := openOutput(outPath, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest traffic convert: %s cannot be written: %v\n", outPath, err)
		return exitInvalid
	}
	defer out.discard()
	buffered := bufio.NewWriterSize(out, 1<<20)
	var w io.Writer = buffered
	var zw *gzip.Writer
	if strings.HasSuffix(outPath, ".gz") {
		zw = gzip.NewWriter(buffered)
		w = zw
	}
	written, skipped, convErr := convert(reader, w, *skipBad, stderr)
	closeErr := errors.Join(closeIf(zw), buffered.Flush())
	if convErr == nil {
		convErr = closeErr
	}
	if convErr == nil {
		convErr = out.commit()
	}
	if convErr != nil {
		fmt.Fprintf(stderr, "shadowtest traffic convert: %v\n", convErr)
		return exitInvalid
	}
	if outPath != "-" {
		fmt.Fprintf(stdout, "%s: %d exchanges written to %s", in, written, outPath)
		if skipped > 0 {
			fmt.Fprintf(stdout, ", %d malformed records skipped", skipped)
		}
		fmt.Fprintln(stdout)
	} else if skipped > 0 {
		fmt.Fprintf(stderr, "%d malformed records skipped\n", skipped)
	}
	return exitPass
}

func convert(reader traffic.Reader, w io.Writer, skipBad bool, stderr io.Writer) (written, skipped int64, err error) {
	var lastBad error
	for {
		ex, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return written, skipped, nil
		}
		if err != nil {
			var bad *traffic.RecordError
			if !skipBad || !errors.As(err, &bad) {
				return written, skipped, err
			}
			if err == lastBad {
				return written, skipped, nil // the reader cannot go past it
			}
			lastBad = err
			skipped++
			fmt.Fprintf(stderr, "skipped bad record: %v\n", err)
			continue
		}
		if err := traffic.WriteJSONL(w, ex); err != nil {
			return written, skipped, err
		}
		written++
	}
}

func closeIf(zw *gzip.Writer) error {
	if zw == nil {
		return nil
	}
	return zw.Close()
}
