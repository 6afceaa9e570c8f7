package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/discover"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

const initExamples = `  shadowtest init --from traffic.har specs/
  shadowtest init --from 'captures/*.gor' --format gor specs/
  shadowtest vet specs/          # the starter specs pass as written`

// initCommand discovers the endpoints of a recording and writes one
// starter spec per endpoint.
func initCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("init", "--from TRAFFIC DIR", initExamples, stdout, stderr)
	from := fs.String("from", "", "the recording to learn from: `FILE`, glob or directory (.har, .gor, .jsonl, optionally .gz)")
	format := fs.String("format", "", "the recording's format, har, gor or jsonl (default: from the file name)")
	force := fs.Bool("force", false, "overwrite .cue files already in DIR")
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *from == "" || len(positional) != 1 {
		fmt.Fprintln(stderr, "shadowtest init: want --from TRAFFIC and one spec directory, e.g. shadowtest init --from traffic.har specs/")
		return exitInvalid
	}
	dir := positional[0]
	src, err := sourceOf(*from, *format)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest init: %v\n", err)
		return exitInvalid
	}
	reader, err := traffic.OpenInFileOrder(src, ".") // grouping needs no order
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest init: %v\n", err)
		return exitInvalid
	}
	defer reader.Close()
	result, err := discover.Discover(traffic.WarnCutShort(reader, func(err error) {
		fmt.Fprintf(stderr, "shadowtest init: warning: %v\n", err)
	}))
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest init: %v\n", err)
		return exitInvalid
	}
	// The spec names the recording relative to itself, as a user would.
	rel := src.Path
	if absDir, err1 := filepath.Abs(dir); err1 == nil {
		if absFrom, err2 := filepath.Abs(src.Path); err2 == nil {
			if r, err3 := filepath.Rel(absDir, absFrom); err3 == nil {
				rel = filepath.ToSlash(r)
			}
		}
	}
	files, err := discover.Write(result, discover.Options{Dir: dir, Traffic: rel, Format: src.Format, Source: src.Path, Force: *force})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest init: %v\n", err)
		return exitInvalid
	}
	fmt.Fprintf(stdout, "%s: %d requests, %d endpoints; wrote %d files to %s\n", src.Path, result.Requests, len(result.Endpoints), len(files), dir)
	for _, e := range result.Endpoints {
		if e.GRPC != "" {
			fmt.Fprintf(stdout, "  %-7s %-40s %6d  %s\n", "gRPC", e.GRPC, e.Count, e.Name)
			continue
		}
		fmt.Fprintf(stdout, "  %-7s %-40s %6d  %s\n", e.Method, e.Path, e.Count, e.Name)
	}
	if result.HTTPLeftOut > 0 {
		fmt.Fprintf(stdout, "  (%d HTTP requests left out: the specs are for the gRPC calls)\n", result.HTTPLeftOut)
	}
	fmt.Fprintf(stdout, "next: edit the specs, then shadowtest vet %s\n", dir)
	return exitPass
}

// sourceOf names a recording given on the command line, with its format
// from the flag or the file name.
func sourceOf(path, format string) (framework.TrafficSource, error) {
	if format == "" {
		format = traffic.FormatOf(path)
		if info, err := os.Stat(path); err == nil && info.IsDir() {
			format = traffic.DirFormat(path) // a directory of recordings, e.g. proxy --record DIR/
		}
	}
	switch format {
	case "har", "gor", "jsonl":
		return framework.TrafficSource{Format: format, Path: path}, nil
	case "":
		return framework.TrafficSource{}, fmt.Errorf("%s: cannot tell the format from the name or, for a directory, its files (want .har, .gor or .jsonl, optionally .gz); use --format", path)
	}
	return framework.TrafficSource{}, errors.New("--format " + format + ": want har, gor or jsonl")
}
