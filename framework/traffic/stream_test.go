package traffic

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestHARStreams proves that the HAR reader does not read the whole file
// before yielding: the writer sends the first entry, then waits until the
// reader has returned it before writing the other entries and the end of
// the document. A reader that buffered the file would never return.
func TestHARStreams(t *testing.T) {
	const entries = 10000
	pr, pw := io.Pipe()
	firstRead := make(chan struct{})
	go func() {
		entry := func(i int) string {
			return fmt.Sprintf(`{"_id":%d,"startedDateTime":"2026-11-25T10:00:00Z","request":{"method":"GET","url":"http://h/items/%d","headers":[]},"response":{"status":200,"headers":[],"content":{"text":"item %d"}}}`, i, i, i)
		}
		io.WriteString(pw, `{"log":{"version":"1.2","entries":[`+entry(1)+",")
		select {
		case <-firstRead:
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("the reader did not yield the first entry before the end of the file"))
			return
		}
		for i := 2; i <= entries; i++ {
			sep := ","
			if i == entries {
				sep = "]}}"
			}
			if _, err := io.WriteString(pw, entry(i)+sep); err != nil {
				return
			}
		}
		pw.Close()
	}()

	r := NewHARReader(pr, "pipe.har")
	defer pr.Close()
	ex, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	close(firstRead)
	if ex.Request.URL != "/items/1" {
		t.Fatalf("first entry: got %q", ex.Request.URL)
	}
	n := 1
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if want := fmt.Sprintf("pipe.har: entry %d", n); ex.Origin != want {
			t.Fatalf("got %q, want %q", ex.Origin, want)
		}
	}
	if n != entries {
		t.Errorf("read %d entries, want %d", n, entries)
	}
}
