package traffic

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestOpen(t *testing.T) {
	abs, err := filepath.Abs("testdata/valid.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	specPos := framework.Position{File: "specs/shop.cue", Line: 4, Col: 12}
	tests := []struct {
		src        framework.TrafficSource
		dir        string
		wantOrigin string // the first exchange's origin
		wantErr    string
		reason     string
	}{
		{
			src:        framework.TrafficSource{Format: "har", Path: "../valid.har"},
			dir:        "testdata/specs",
			wantOrigin: "testdata/valid.har: entry 1",
			reason:     "a relative path is resolved against the spec directory and cleaned",
		},
		{
			src:        framework.TrafficSource{Format: "jsonl", Path: abs},
			dir:        "elsewhere",
			wantOrigin: abs + ": line 1",
			reason:     "an absolute path is used as is",
		},
		{
			src:     framework.TrafficSource{Format: "har", Path: "missing.har", Pos: specPos},
			dir:     "testdata",
			wantErr: "specs/shop.cue:4:12: traffic file testdata/missing.har: no such file or directory",
			reason:  "a missing file is named, with where the spec names it",
		},
		{
			src:     framework.TrafficSource{Format: "har", Path: "missing.har"},
			dir:     "testdata",
			wantErr: "traffic file testdata/missing.har: no such file or directory",
			reason:  "without a spec position",
		},
		{
			src:     framework.TrafficSource{Format: "pcap", Path: "x.pcap", Pos: specPos},
			dir:     "testdata",
			wantErr: `specs/shop.cue:4:12: traffic testdata/x.pcap: unknown format "pcap" (want "har", "gor" or "jsonl")`,
			reason:  "an unknown format is named",
		},
	}
	for _, tt := range tests {
		r, err := Open(tt.src, tt.dir)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s:\ngot  %v\nwant %s", tt.reason, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.reason, err)
			continue
		}
		ex, err := r.Next()
		if err != nil || ex.Origin != tt.wantOrigin {
			t.Errorf("%s: got %q, %v; want %q", tt.reason, ex.Origin, err, tt.wantOrigin)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: Close: %v", tt.reason, err)
		}
	}
	_, err = Open(framework.TrafficSource{Format: "har", Path: "missing.har"}, "testdata")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file's error %v is not fs.ErrNotExist", err)
	}
}
