package live

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// A session started while its kill file exists starts stopped, at once:
// the file was first looked at by a goroutine, so the self-test found the
// switch tripped or not by chance (the proxy refused to start, exit 3,
// or mirrored until the first poll) (redteam6). The self-test leaves the
// tripped switch alone, and removing the file resumes mirroring.
func TestAKillFilePresentAtStartStopsMirroringAtOnce(t *testing.T) {
	prod := serve(t, item("1"))
	shadow := serve(t, item("1"))
	plan := testPlan(prod.URL, shadow.URL)
	plan.Mirror.KillSwitch.File = filepath.Join(t.TempDir(), "shadow.off")
	if err := os.WriteFile(plan.Mirror.KillSwitch.File, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for range 20 { // each start, whatever the scheduling
		s, err := New(plan, observe.NewResults(plan.Endpoints), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !s.Switch().Killed() {
			s.Close()
			t.Fatal("a session started while the kill file exists is not stopped when New returns")
		}
		if _, err := s.SelfTest(); !errors.Is(err, ErrStartsStopped) || !s.Switch().Killed() {
			s.Close()
			t.Fatalf("self-test with the kill file present: %v, killed %v", err, s.Switch().Killed())
		}
		s.Close()
	}
	s, front := session(t, plan, Options{})
	get(t, front.URL+"/items/1")
	os.Remove(plan.Mirror.KillSwitch.File)
	eventually(t, "mirroring resumed once the file is gone", func() bool { return !s.Switch().Killed() })
	get(t, front.URL+"/items/2")
	eventually(t, "the copy sent after the file went", func() bool { return shadow.n.Load() == 1 })
	if n := shadow.n.Load(); n != 1 {
		t.Fatalf("the shadow got %d copies, want only the one sent after the file went", n)
	}
}
