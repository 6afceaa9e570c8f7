package traffic

import (
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestADirectoryIsReadInNameOrder(t *testing.T) {
	dir := t.TempDir()
	line := func(path string) string {
		return `{"request":{"method":"GET","url":"` + path + `"},"response":{"status":200}}` + "\n"
	}
	write := func(name, content string, gz bool) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if !gz {
			f.WriteString(content)
			return
		}
		zw := gzip.NewWriter(f)
		zw.Write([]byte(content))
		zw.Close()
	}
	write("shadowtest-20261130T031600.000Z-000002.jsonl.gz", line("/b"), true)
	write("shadowtest-20261130T031500.000Z-000001.jsonl.gz", line("/a"), true)
	write("z-plain.jsonl", line("/c"), false)
	write(".shadowtest-20261130T031700.000Z-000003.jsonl.gz.123", "half a gzip", false) // being written, or left by a killed proxy
	write("notes.txt", "not a recording", false)
	r, err := Open(framework.TrafficSource{Format: "jsonl", Path: dir}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ex.Request.URL)
	}
	if strings.Join(got, " ") != "/a /b /c" {
		t.Fatalf("read %v, want /a /b /c: name order, hidden and other files left out", got)
	}
	if DirFormat(dir) != "jsonl" {
		t.Fatalf("DirFormat %q", DirFormat(dir))
	}
	if _, err := Open(framework.TrafficSource{Format: "har", Path: dir}, ""); err == nil || !strings.Contains(err.Error(), "holds no har recording") {
		t.Fatalf("a directory without the format's files: %v", err)
	}
}
