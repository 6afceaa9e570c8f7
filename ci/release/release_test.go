package release

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repo is the repository root, seen from this module.
const repo = "../.."

// tool returns the path of a go tool pinned in this module's go.mod,
// building it into the Go build cache the first time.
func tool(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "-n", name).Output()
	if err != nil {
		t.Fatalf("go tool -n %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// sourceFiles lists the repository's files as a clone would have them:
// tracked and untracked, not ignored, that still exist.
func sourceFiles(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if _, err := os.Stat(filepath.Join(repo, f)); err == nil {
			files = append(files, f)
		}
	}
	return files
}

func copyFiles(t *testing.T, files []string, dst string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// platforms are the release's targets, as .goreleaser.yaml declares them.
var platforms = []struct{ os, arch string }{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// TestGoReleaser releases a copy of this repository tagged v1.2.3 with the
// pinned GoReleaser, everything but publishing (no network, no container
// daemon, so no image either), and checks what a team would download: an
// archive per platform (linux, darwin and windows, amd64 and arm64) with the binary and the docs, checksums.txt that
// matches them, a CycloneDX SBOM per binary, a static linux binary whose
// `version` names the tag and the commit, and the CI templates' install
// script installing it from a server laid out like the GitHub release.
func TestGoReleaser(t *testing.T) {
	goreleaser := tool(t, "goreleaser")
	cyclonedx := tool(t, "cyclonedx-gomod")
	src := t.TempDir()
	copyFiles(t, sourceFiles(t), src)
	gitEnv := []string{"GIT_AUTHOR_NAME=release test", "GIT_AUTHOR_EMAIL=release@test.invalid",
		"GIT_COMMITTER_NAME=release test", "GIT_COMMITTER_EMAIL=release@test.invalid"}
	run(t, src, gitEnv, "git", "init", "-q")
	run(t, src, gitEnv, "git", "add", "-A")
	run(t, src, gitEnv, "git", "commit", "-q", "-m", "release test")
	run(t, src, gitEnv, "git", "tag", "v1.2.3")
	// GoReleaser reads the remote's URL (never contacted here: nothing is
	// published).
	run(t, src, nil, "git", "remote", "add", "origin", "https://github.com/shadowtest/shadowtest.git")
	commit := strings.TrimSpace(run(t, src, nil, "git", "rev-parse", "HEAD"))

	run(t, src, nil, goreleaser, "check")
	env := []string{"PATH=" + filepath.Dir(cyclonedx) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GITHUB_TOKEN=", "GORELEASER_CURRENT_TAG=v1.2.3"}
	started := time.Now()
	run(t, src, env, goreleaser, "release", "--clean", "--skip=publish,announce,docker,validate", "--parallelism=2")
	t.Logf("goreleaser release (6 binaries, archives, checksums, SBOMs): %s", time.Since(started).Round(time.Second))
	dist := filepath.Join(src, "dist")

	sums := readChecksums(t, filepath.Join(dist, "checksums.txt"))
	for _, p := range platforms {
		archive, exe := fmt.Sprintf("shadowtest_1.2.3_%s_%s.tar.gz", p.os, p.arch), "shadowtest"
		if p.os == "windows" {
			archive, exe = strings.TrimSuffix(archive, ".tar.gz")+".zip", "shadowtest.exe"
		}
		data, err := os.ReadFile(filepath.Join(dist, archive))
		if err != nil {
			t.Errorf("missing archive %s: %v", archive, err)
			continue
		}
		if got := sha256.Sum256(data); sums[archive] != hex.EncodeToString(got[:]) {
			t.Errorf("checksums.txt says %q for %s, the file's sha256 is %x", sums[archive], archive, got)
		}
		entries := archiveEntries(t, archive, data)
		for _, want := range []string{exe, "README.md", "schemas/REFERENCE.md"} {
			if !slices.Contains(entries, want) {
				t.Errorf("%s lacks %s: it holds %v", archive, want, entries)
			}
		}
		sbom := filepath.Join(dist, fmt.Sprintf("shadowtest_1.2.3_%s_%s.cdx.json", p.os, p.arch))
		checkSBOM(t, sbom)
	}

	binary := filepath.Join(dist, "shadowtest_"+runtime.GOOS+"_"+runtime.GOARCH+map[string]string{"amd64": "_v1", "arm64": "_v8.0"}[runtime.GOARCH], "shadowtest")
	checkStatic(t, binary)
	version := run(t, src, nil, binary, "version")
	if want := "shadowtest v1.2.3 (commit " + commit + ", "; !strings.HasPrefix(version, want) {
		t.Errorf("the released binary's version is %q, want it to start with %q", version, want)
	}

	// The GitHub template's install script, against the dist directory
	// served as https://github.com/shadowtest/shadowtest/releases/download.
	srv := httptest.NewServer(http.StripPrefix("/v1.2.3/", http.FileServer(http.Dir(dist))))
	defer srv.Close()
	home := t.TempDir()
	install := installScript(t)
	run(t, home, []string{"HOME=" + home, "GITHUB_PATH=" + filepath.Join(home, "github-path"),
		"SHADOWTEST_VERSION=v1.2.3", "SHADOWTEST_RELEASES=" + srv.URL}, "bash", "-e", "-o", "pipefail", "-c", install)
	installed := run(t, home, nil, filepath.Join(home, ".local", "bin", "shadowtest"), "version")
	if installed != version {
		t.Errorf("the template installed a binary whose version is %q, want %q", installed, version)
	}
}

func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// The install scripts look for "<sha256>  <name>": two spaces.
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("checksums.txt: line %q is not <sha256>  <name>", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

func archiveEntries(t *testing.T, name string, data []byte) []string {
	t.Helper()
	var entries []string
	if strings.HasSuffix(name, ".zip") {
		zr, err := zip.NewReader(strings.NewReader(string(data)), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range zr.File {
			entries = append(entries, f.Name)
		}
		return entries
	}
	gz, err := gzip.NewReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		entries = append(entries, h.Name)
	}
}

func checkSBOM(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("missing SBOM: %v", err)
		return
	}
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Name string `json:"name"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	names := make([]string, 0, len(bom.Components))
	for _, c := range bom.Components {
		names = append(names, c.Name)
	}
	if bom.BOMFormat != "CycloneDX" || !slices.Contains(names, "cuelang.org/go") {
		t.Errorf("%s: format %q, components %v: want CycloneDX listing cuelang.org/go", path, bom.BOMFormat, names)
	}
}

// checkStatic fails unless the ELF binary asks for no dynamic loader.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (it has a PT_INTERP segment): it would not run on distroless/static", path)
		}
	}
}

// installScript is the install step of ci/github/shadowtest.yml.
func installScript(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, "ci", "github", "shadowtest.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "      - name: Install shadowtest\n        run: |\n")
	if start < 0 {
		t.Fatal("ci/github/shadowtest.yml has no Install shadowtest step with a run: | script")
	}
	var lines []string
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "          ") {
			break
		}
		lines = append(lines, strings.TrimPrefix(line, "          "))
	}
	return strings.Join(lines, "\n")
}

// TestDockerfile checks the Dockerfile's shape (multi-stage, distroless
// static base, non-root, shadowtest as entrypoint, the default target
// built from source, a release target for GoReleaser), then does what its
// build stage does, outside a container: the build context filtered by
// .dockerignore, `go mod download` and its RUN go build line as written.
// The binary must be static, and `shadowtest demo` must pass when run as
// the image's user (uid 65532) in a directory only that user can write,
// as in the image's WORKDIR. No container daemon here: docker build itself
// is not run.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(data)
	var froms []string
	var buildRun string
	for _, line := range strings.Split(dockerfile, "\n") {
		switch {
		case strings.HasPrefix(line, "FROM "):
			froms = append(froms, line)
		case strings.HasPrefix(line, "RUN CGO_ENABLED=0 go build "):
			buildRun = strings.TrimPrefix(line, "RUN ")
		}
	}
	want := []string{
		"FROM golang:1.26 AS build",
		"FROM gcr.io/distroless/static-debian12:nonroot AS base",
		"FROM base AS release",
		"FROM base AS source",
	}
	if !slices.Equal(froms, want) {
		t.Errorf("Dockerfile stages are\n%s\nwant\n%s\n(the last one is what `docker build .` builds)", strings.Join(froms, "\n"), strings.Join(want, "\n"))
	}
	for _, line := range []string{
		"USER nonroot:nonroot",
		`ENTRYPOINT ["/usr/local/bin/shadowtest"]`,
		"COPY ${TARGETPLATFORM}/shadowtest /usr/local/bin/shadowtest",
		"COPY --from=build /out/shadowtest /usr/local/bin/shadowtest",
		"WORKDIR /home/nonroot",
	} {
		if !strings.Contains(dockerfile, "\n"+line+"\n") {
			t.Errorf("Dockerfile lacks the line %q", line)
		}
	}
	if buildRun == "" {
		t.Fatal("Dockerfile has no RUN CGO_ENABLED=0 go build line")
	}
	if !regexp.MustCompile(`--target=release`).MatchString(readFile(t, filepath.Join(repo, ".goreleaser.yaml"))) {
		t.Error(".goreleaser.yaml does not build the Dockerfile's release stage (--target=release)")
	}

	// The build context, as .dockerignore leaves it.
	context := t.TempDir()
	ignore := dockerignore(t)
	var files []string
	for _, f := range sourceFiles(t) {
		if !ignore(f) {
			files = append(files, f)
		}
	}
	copyFiles(t, files, context)
	run(t, context, []string{"CGO_ENABLED="}, "go", "mod", "download")
	out := sharedDir(t)
	script := strings.NewReplacer("${VERSION}", "v9.9.9", "${COMMIT}", "feedface", "/out/shadowtest", filepath.Join(out, "shadowtest")).Replace(buildRun)
	run(t, context, nil, "sh", "-e", "-c", script)
	binary := filepath.Join(out, "shadowtest")
	checkStatic(t, binary)
	if got := run(t, context, nil, binary, "version"); !strings.HasPrefix(got, "shadowtest v9.9.9 (commit feedface, ") {
		t.Errorf("the image's binary prints %q for version", got)
	}

	cmd := exec.Command(binary, "demo")
	cmd.Env = []string{"HOME=" + out, "NO_COLOR=1", "PATH=/usr/bin:/bin"}
	cmd.Dir = out
	if os.Geteuid() == 0 {
		if err := os.Chown(out, 65532, 65532); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(out, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	} else {
		t.Log("not root: the demo runs as the current user, not as uid 65532")
	}
	if demo, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shadowtest demo as the image's user: %v\n%s", err, demo)
	}
	if _, err := os.Stat(filepath.Join(out, "junit.xml")); err != nil {
		t.Errorf("the demo wrote no junit.xml in its working directory: %v", err)
	}
}

// sharedDir is a temporary directory that another user can enter (t.TempDir
// makes its parent private to the test's user).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "shadowtest-image-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// dockerignore returns whether .dockerignore excludes a path. It knows the
// forms the file uses: a name or path (and what is under it), and **/name.
func dockerignore(t *testing.T) func(string) bool {
	t.Helper()
	var patterns []string
	for _, line := range strings.Split(readFile(t, filepath.Join(repo, ".dockerignore")), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	return func(path string) bool {
		parts := strings.Split(path, "/")
		for _, p := range patterns {
			if name, ok := strings.CutPrefix(p, "**/"); ok {
				if slices.Contains(parts, name) {
					return true
				}
				continue
			}
			if path == p || strings.HasPrefix(path, p+"/") {
				return true
			}
		}
		return false
	}
}
