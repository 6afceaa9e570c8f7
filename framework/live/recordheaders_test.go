package live

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// The recorder's queue bounds the bytes it holds (RecordQueueBytes) by
// the bodies and URLs only: a client sending ~1 MiB of headers (the
// server's default bound) with every request, while the disk is slow,
// filled its 1,024 places with a gigabyte of headers (redteam6). Headers
// count too.
func TestRecordQueueCountsHeaders(t *testing.T) {
	release := make(chan struct{})
	opt := stuckDiskOptions(release)
	rec, _ := newTestRecorder(t, t.TempDir(), opt)
	defer func() {
		close(release)
		rec.Close()
	}()
	big := strings.Repeat("h", 512<<10)
	const offered = 300 // 150 MiB of headers: more than RecordQueueBytes
	for i := range offered {
		ex := framework.Exchange{
			Time:     time.Now(),
			Request:  framework.Request{Method: "GET", URL: "/items/" + strings.Repeat("1", i%7+1), Header: http.Header{"X-Trace-Context": {big}}},
			Recorded: &framework.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)},
		}
		rec.Record(&ex)
	}
	if held := rec.queuedBytes.Load(); held > RecordQueueBytes {
		t.Errorf("the queue holds %d MiB of exchanges, past RecordQueueBytes (%d MiB)", held>>20, RecordQueueBytes>>20)
	}
	if c := rec.Counts(); c.Dropped == 0 || c.Dropped >= offered {
		t.Errorf("counts %+v: want the exchanges past the queue's bytes dropped, the first kept", c)
	}
}
