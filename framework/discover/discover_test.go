package discover

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/spec"
)

type list []framework.Exchange

func (l *list) Next() (framework.Exchange, error) {
	if len(*l) == 0 {
		return framework.Exchange{}, io.EOF
	}
	ex := (*l)[0]
	*l = (*l)[1:]
	return ex, nil
}

func requests(lines ...string) *list {
	var l list
	for _, line := range lines {
		method, url, _ := strings.Cut(line, " ")
		l = append(l, framework.Exchange{Request: framework.Request{Method: method, URL: url}})
	}
	return &l
}

func TestTemplate(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"/users/123?x=1", "/users/{id}", "numeric id, query dropped"},
		{"/users/123/orders/456", "/users/{id}/orders/{id2}", "repeated parameters are numbered"},
		{"/o/3f2b1c1e-9a7d-4c1e-8b1e-1234567890ab", "/o/{id}", "UUID"},
		{"/blobs/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "/blobs/{id}", "hash"},
		{"/reports/2026-11-25", "/reports/{date}", "date"},
		{"/files/a%20b", "/files/a b", "unescaped as the selector matches it"},
		{"/q/%7Bx%7D", "/q/{x}", "an escaped {x} becomes a parameter: still covers the request"},
		{"/", "/", "root"},
		{"/reset/Xk9_aQ3-bT7mZp2LwRt8Vg", "/reset/{token}", "a credential in the path is a parameter, never written in a spec (redteam6)"},
		{"/verify/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl12/again", "/verify/{token}/again", "a JWT"},
		{"/users/123/keys/AKIA1234567890ABCDEF", "/users/{id}/keys/{token}", "an API key after an id"},
		{"/docs/getting-started", "/docs/getting-started", "words without digits stay"},
		{"/files/*", "/files/{param}", "a literal * reads as a wildcard, which vet refuses in a template"},
		{"/u/:id/x", "/u/{param}/x", "a literal :id reads as an Express parameter"},
		{"/x/%7Bid%7D.json", "/x/{param}", "a {name} that is not a whole segment"},
		{"/v1/items:batchGet", "/v1/items:batchGet", "a literal colon inside a segment stays"},
	}
	for _, tt := range tests {
		if got := Template(tt.in); got != tt.want {
			t.Errorf("Template(%q) = %q, want %q (%s)", tt.in, got, tt.want, tt.reason)
		}
	}
}

func TestDiscoverGroupsAndOrders(t *testing.T) {
	res, err := Discover(requests(
		"GET /users/7", "GET /users/8?expand=1", "GET /users/me", "POST /users", "GET /users/9",
		"GET /", "TRACE /x", "DELETE /users/7", "GET /reports/2026-01-02",
	))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Endpoints {
		got = append(got, e.Name+" "+e.Method+" "+e.Path+" "+itoa(e.Count))
	}
	want := []string{
		"get-root GET / 1",
		"post-users POST /users 1",
		"get-users-me GET /users/me 1",
		"get-reports-date GET /reports/{date} 1",
		"delete-users-id DELETE /users/{id} 1",
		"get-users-id GET /users/{id} 3",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Requests != 9 || res.OtherMethods["TRACE"] != 1 {
		t.Errorf("requests %d, other methods %v", res.Requests, res.OtherMethods)
	}
}

// TestWrittenSpecsPassVet writes the starter specs of the demo HAR and
// loads them with the real spec loader, as `shadowtest vet` does.
func TestWrittenSpecsPassVet(t *testing.T) {
	dir := t.TempDir()
	specDir := filepath.Join(dir, "specs")
	traffic := filepath.Join(dir, "my traffic.jsonl")
	os.WriteFile(traffic, []byte(`{"request":{"method":"GET","url":"/users/1"}}`+"\n"), 0o644)
	res, err := Discover(requests("GET /users/7", "GET /users/me", "POST /users", `GET /odd/"quoted"\path`, "OPTIONS /"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Write(res, Options{Dir: specDir, Traffic: "../my traffic.jsonl", Format: "jsonl", Source: traffic})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Errorf("%d files, want shadow.cue and one per endpoint (5)", len(files))
	}
	plan, err := spec.Load(specDir, spec.Options{})
	if err != nil {
		t.Fatalf("the written specs do not pass vet:\n%v", err)
	}
	var names []string
	for _, e := range plan.Endpoints {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"options-root", "get-odd-quoted-path", "post-users", "get-users-me", "get-users-id"}) {
		t.Errorf("endpoints in spec order: %v", names)
	}
	// What init writes is what `cue fmt` would write: the real cue command
	// (go.mod's tool) agrees.
	cue, err := exec.Command("go", "tool", "-n", "cue").Output()
	if err != nil {
		t.Fatalf("building the cue tool: %v", err)
	}
	if out, err := exec.Command(strings.TrimSpace(string(cue)), append([]string{"fmt", "--check"}, files...)...).CombinedOutput(); err != nil {
		t.Errorf("cue fmt --check on what init writes: %v\n%s", err, out)
	}
	if _, err := Write(res, Options{Dir: specDir, Traffic: "x", Format: "jsonl", Source: traffic}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwriting without --force: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestWrittenSpecsShowNoHiddenText: a recording is data from anywhere (a
// client of the live proxy, a HAR someone sent); a path holding a bidi
// override or a C1 control reached the specs init writes raw, in a
// comment and in a string, where a reviewer's editor reorders the text
// around it ("Trojan source"). They are written as \u escapes, and the
// specs still load with the same path.
func TestWrittenSpecsShowNoHiddenText(t *testing.T) {
	specDir := filepath.Join(t.TempDir(), "specs")
	const path = "/users/\u202eevil\u2066/x\u0085y"
	res, err := Discover(requests("GET " + path))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Write(res, Options{Dir: specDir, Traffic: "t.jsonl", Format: "jsonl", Source: "t\u202e.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		data, _ := os.ReadFile(file)
		if i := strings.IndexFunc(string(data), func(r rune) bool {
			return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r >= 0x80 && r <= 0x9f
		}); i >= 0 {
			t.Errorf("%s holds a raw bidi override or C1 control at byte %d: %q", filepath.Base(file), i, data[max(0, i-30):min(len(data), i+30)])
		}
	}
	plan, err := spec.Load(specDir, spec.Options{Live: true})
	if err != nil {
		t.Fatalf("the written specs do not load:\n%v", err)
	}
	if len(plan.Endpoints) != 1 || plan.Endpoints[0].Path != path {
		t.Errorf("the endpoint's path is %q, want %q", plan.Endpoints[0].Path, path)
	}
}

// TestWrittenSpecsHoldNoPathCredential: a recording of a password-reset
// flow gave one endpoint per token, each written with its token in the
// spec's file name, endpoint name, path and comment, committed with the
// specs (redteam6). The tokens are one {token} parameter, and the
// example is masked.
func TestWrittenSpecsHoldNoPathCredential(t *testing.T) {
	tokens := []string{"Xk9_aQ3-bT7mZp2LwRt8Vg", "pQ7-Lm2_Zx8vNc4bWq1eRt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln12"}
	var lines []string
	for _, tok := range tokens {
		lines = append(lines, "GET /reset/"+tok+"?lang=en", "POST /reset/"+tok)
	}
	res, err := Discover(requests(lines...))
	if err != nil {
		t.Fatal(err)
	}
	specDir := filepath.Join(t.TempDir(), "specs")
	files, err := Write(res, Options{Dir: specDir, Traffic: "t.jsonl", Format: "jsonl", Source: "t.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Endpoints) != 2 {
		t.Errorf("%d endpoints, want GET and POST /reset/{token}: %+v", len(res.Endpoints), res.Endpoints)
	}
	for _, file := range files {
		data, _ := os.ReadFile(file)
		for _, tok := range tokens {
			if strings.Contains(file, tok[:8]) || strings.Contains(string(data), tok[:8]) || strings.Contains(strings.ToLower(string(data)), strings.ToLower(tok[:8])) {
				t.Errorf("%s holds the token %s:\n%s", filepath.Base(file), tok, data)
			}
		}
	}
	plan, err := spec.Load(specDir, spec.Options{Live: true})
	if err != nil {
		t.Fatalf("the written specs do not load:\n%v", err)
	}
	if len(plan.Endpoints) != 2 || plan.Endpoints[0].Path != "/reset/{token}" {
		t.Errorf("endpoints %+v, want /reset/{token}", plan.Endpoints)
	}
}

// TestWriteWithNoRoomBesideTheDirectory: Write puts its temporary directory
// beside the spec directory; when it cannot (a parent that is not
// writable, or here a name too long for one more suffix), an existing
// spec directory holds it instead, and nothing of it is left.
func TestWriteWithNoRoomBesideTheDirectory(t *testing.T) {
	res, err := Discover(requests("GET /users/1"))
	if err != nil {
		t.Fatal(err)
	}
	specDir := filepath.Join(t.TempDir(), strings.Repeat("s", 250)) // "."+name+".init-NNN" is over 255 bytes
	if err := os.Mkdir(specDir, 0o755); err != nil {
		t.Skipf("the file system takes no 250-byte name: %v", err)
	}
	files, err := Write(res, Options{Dir: specDir, Traffic: "t.jsonl", Format: "jsonl", Source: "t.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(specDir)
	if len(entries) != len(files) || len(files) != 2 {
		t.Errorf("the spec directory holds %d entries, want the %d files written: %v", len(entries), len(files), entries)
	}
	siblings, _ := os.ReadDir(filepath.Dir(specDir))
	if len(siblings) != 1 {
		t.Errorf("beside the spec directory: %v", siblings)
	}
}

// TestWriteIntoADirectoryOnAnotherFileSystem: a spec directory that is a
// mounted volume, or a link to a directory on another file system (here
// /dev/shm, a tmpfs), was refused by init with "rename ...: invalid
// cross-device link" once the files went to a temporary directory beside
// it (redteam10): the temporary directory is inside the spec directory.
func TestWriteIntoADirectoryOnAnotherFileSystem(t *testing.T) {
	elsewhere, err := os.MkdirTemp("/dev/shm", "specs-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(elsewhere) })
	res, err := Discover(requests("GET /users/1"))
	if err != nil {
		t.Fatal(err)
	}
	specDir := filepath.Join(t.TempDir(), "specs")
	if err := os.Symlink(elsewhere, specDir); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	files, err := Write(res, Options{Dir: specDir, Traffic: "t.jsonl", Format: "jsonl", Source: "t.jsonl"})
	if err != nil {
		t.Fatalf("Write into a link to another file system: %v", err)
	}
	entries, _ := os.ReadDir(elsewhere)
	if len(entries) != len(files) || len(files) != 2 {
		t.Errorf("the spec directory holds %v, want the %d files written and nothing else", entries, len(files))
	}
	if siblings, _ := os.ReadDir(filepath.Dir(specDir)); len(siblings) != 1 {
		t.Errorf("beside the spec directory: %v", siblings)
	}
}

// TestAFailedWriteLeavesAnotherInitsFiles: a failed Write removed the spec
// directory it created with everything in it, also the temporary
// directory or the files of another init into the same new directory
// (started a moment later: it found the directory there). Only empty
// directories it created are removed (redteam10).
func TestAFailedWriteLeavesAnotherInitsFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "specs", "users")
	created, err := mkdirAll(dir)
	if err != nil || created != filepath.Join(root, "specs") {
		t.Fatalf("mkdirAll: %q, %v", created, err)
	}
	other := filepath.Join(dir, "shadow.cue") // the other init's file
	if err := os.WriteFile(other, []byte("package shadow\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	removeCreated(dir, created)
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the other init's file is gone: %v", err)
	}
	os.Remove(other)
	removeCreated(dir, created)
	if _, err := os.Stat(filepath.Join(root, "specs")); err == nil {
		t.Errorf("the empty directories created are left")
	}
}
