//go:build unix

package live

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// Recordings hold production traffic: secrets are masked, personal data
// is not. They were created 0644, readable by every user of the proxy's
// host (redteam6); now by their owner only, a directory created for them
// too.
func TestRecordingsAreTheOwnersOnly(t *testing.T) {
	root := t.TempDir()
	for _, target := range []string{filepath.Join(root, "live.jsonl"), filepath.Join(root, "rec") + "/"} {
		rec, _ := newTestRecorder(t, target, RecordOptions{})
		rec.Record(&framework.Exchange{Time: time.Now(), Request: framework.Request{Method: "GET", URL: "/items/1"},
			Recorded: &framework.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"email":"ada@example.com"}`)}})
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		files := []string{target}
		if IsRecordDir(target) {
			files, _ = RecordFiles(target)
			files = append(files, target)
		}
		for _, f := range files {
			info, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s: mode %v, want no access for group and others", f, perm)
			}
		}
	}
}
