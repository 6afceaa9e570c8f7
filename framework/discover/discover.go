// Package discover groups recorded requests into endpoints, by method and
// path template, and writes starter specs for them: the `shadowtest init`
// command.
//
// Path segments that look like identifiers become parameters: numeric ids,
// UUIDs and long hex hashes become {id} (then {id2}, {id3} in the same
// path), ISO dates become {date}, and segments that look like credentials
// (scrub.PathTokens: a reset token, a JWT) become {token}. Memory grows with the number of distinct
// endpoints, never with the number of requests; past MaxEndpoints distinct
// templates, further ones are only counted as "other".
//
// It does not send anything and does not judge responses.
package discover

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/selector"
)

// MaxEndpoints bounds how many distinct endpoints are kept.
const MaxEndpoints = 1000

// Endpoint is one discovered endpoint.
type Endpoint struct {
	// Name is a spec endpoint name derived from the method and template,
	// unique among the discovered endpoints ("get-users-id").
	Name string
	// Method and Path are the endpoint's selector: Path is a template.
	Method, Path string
	// GRPC is the full method of a gRPC endpoint ("pkg.Service/Method"),
	// "" for HTTP; Method is then "POST" and Path "/" + GRPC.
	GRPC string
	// Count is the number of requests observed.
	Count int64
	// Example is the path (without query) of the first request seen,
	// with the segments that look like credentials masked.
	Example string
}

// Result is what a recording holds.
type Result struct {
	// Endpoints in the order a spec should declare them: templates with
	// fewer parameters first, so that /users/me wins over /users/{id}.
	Endpoints []Endpoint
	// Requests is the number of requests read.
	Requests int64
	// Other counts requests of templates past MaxEndpoints.
	Other int64
	// OtherMethods counts requests whose method a spec cannot select
	// (TRACE, CONNECT, custom methods), by method.
	OtherMethods map[string]int64
	// HTTPLeftOut counts the HTTP requests of a recording that also holds
	// RPCs: a spec's targets speak one or the other, so the RPCs win.
	HTTPLeftOut int64
}

// specMethods are the methods a spec endpoint can have.
var specMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Source yields exchanges; traffic.Reader satisfies it.
type Source interface {
	Next() (framework.Exchange, error)
}

// Discover reads src to the end and groups its requests. A read error ends
// it and is returned with what was read so far.
func Discover(src Source) (*Result, error) {
	res := &Result{}
	index := map[string]int{}
	for {
		ex, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.finish()
			return res, err
		}
		res.Requests++
		method, path := ex.Request.Method, Template(ex.Request.URL)
		grpc := ""
		if ex.Request.RPC != nil {
			grpc = ex.Request.RPC.Method // RPCs group by service and method
			path = "/" + grpc
		}
		if !slices.Contains(specMethods, method) {
			if res.OtherMethods == nil {
				res.OtherMethods = map[string]int64{}
			}
			if len(res.OtherMethods) < 100 {
				res.OtherMethods[method]++
			}
			continue
		}
		key := method + " " + path
		if grpc != "" {
			key = "rpc " + grpc
		}
		i, ok := index[key]
		if !ok {
			if len(res.Endpoints) >= MaxEndpoints {
				res.Other++
				continue
			}
			i = len(res.Endpoints)
			index[key] = i
			example, _, _ := strings.Cut(ex.Request.URL, "?")
			example = scrub.PathTokens(example) // written in the spec's comment
			res.Endpoints = append(res.Endpoints, Endpoint{Method: method, Path: path, GRPC: grpc, Example: example})
		}
		res.Endpoints[i].Count++
	}
	res.finish()
	return res, nil
}

// finish orders the endpoints and names them.
func (r *Result) finish() {
	if slices.ContainsFunc(r.Endpoints, func(e Endpoint) bool { return e.GRPC != "" }) {
		r.Endpoints = slices.DeleteFunc(r.Endpoints, func(e Endpoint) bool {
			if e.GRPC == "" {
				r.HTTPLeftOut += e.Count
			}
			return e.GRPC == ""
		})
	}
	slices.SortStableFunc(r.Endpoints, func(a, b Endpoint) int {
		return cmp.Or(
			cmp.Compare(strings.Count(a.Path, "{"), strings.Count(b.Path, "{")),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Method, b.Method),
		)
	})
	used := map[string]bool{}
	for i := range r.Endpoints {
		base := name(r.Endpoints[i].Method, r.Endpoints[i].Path)
		if g := r.Endpoints[i].GRPC; g != "" {
			base = rpcName(g)
		}
		n := base
		for k := 2; used[n]; k++ {
			n = fmt.Sprintf("%s-%d", base, k)
		}
		used[n] = true
		r.Endpoints[i].Name = n
	}
}

// Template returns the path template of a request URL: the path, without
// query, unescaped as the selector matches it, with identifiers replaced
// by parameters numbered when they repeat ({id}, {id2}).
func Template(rawURL string) string {
	path, _, _ := strings.Cut(rawURL, "?")
	if unescaped, err := url.PathUnescape(path); err == nil {
		path = unescaped // the selector matches unescaped paths
	}
	seen := map[string]int{}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		p = selector.TemplateSegment(p)
		if selector.SegmentProblem(p) != "" {
			// Recorded as is ("/files/*" from a scanner), the segment
			// reads as a wildcard or a parameter, which vet refuses in a
			// template: it becomes one.
			p = "{param}"
		}
		if p != "" && scrub.PathTokens(p) == scrub.Mask {
			// A credential in the path (a password-reset or magic-link
			// token) is a parameter: as written, it went into the
			// specs, their file names and the summary, one endpoint
			// per token.
			p = "{token}"
		}
		parts[i] = p
		if len(p) >= 2 && strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			param := p[1 : len(p)-1]
			seen[param]++
			if n := seen[param]; n > 1 {
				parts[i] = fmt.Sprintf("{%s%d}", param, n)
			}
		}
	}
	if path = strings.Join(parts, "/"); path == "" {
		path = "/"
	}
	return path
}

// name derives an endpoint name: "GET /users/{id}/orders" is
// "get-users-id-orders", "GET /" is "get-root".
func name(method, path string) string {
	var words []string
	for _, seg := range strings.Split(path, "/") {
		var b strings.Builder
		for _, r := range strings.ToLower(seg) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				b.WriteRune(r)
			case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
				b.WriteByte('-')
			}
		}
		if w := strings.Trim(b.String(), "-"); w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		words = []string{"root"}
	}
	return strings.ToLower(method) + "-" + strings.Join(words, "-")
}

// rpcName names a gRPC endpoint after its service's last name and its
// method, in words: "acme.users.v1.UserService/GetUser" is
// "user-service-get-user".
func rpcName(fullMethod string) string {
	service, method, _ := strings.Cut(fullMethod, "/")
	if i := strings.LastIndex(service, "."); i >= 0 {
		service = service[i+1:]
	}
	var b strings.Builder
	prevLower := false
	for _, r := range service + "/" + method {
		switch {
		case r >= 'A' && r <= 'Z':
			if prevLower {
				b.WriteByte('-')
			}
			b.WriteRune(r + 'a' - 'A')
			prevLower = false
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			prevLower = true
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
			prevLower = false
		}
	}
	if n := strings.Trim(b.String(), "-"); n != "" {
		return n
	}
	return "rpc"
}

// Options say what Write puts in the specs.
type Options struct {
	// Dir is the spec directory to create or fill.
	Dir string
	// Traffic is the recording, as the spec will name it: a path relative
	// to Dir (or absolute).
	Traffic string
	// Format is the recording's format: "har", "gor" or "jsonl".
	Format string
	// Source names the recording in comments.
	Source string
	// Force overwrites existing .cue files.
	Force bool
}

// Write writes shadow.cue (targets, traffic, mirror and defaults) and one
// file per endpoint, NNN-name.cue, numbered so that files in name order
// declare the endpoints in the order of r.Endpoints. It returns the files
// written.
//
// The files are written to a temporary directory inside opt.Dir and moved
// in at the end: a failed write (a full disk) leaves neither a partial
// spec, which a second init refused without --force, nor a directory it
// created, and --force keeps the old files until every new one is written.
func Write(r *Result, opt Options) ([]string, error) {
	if !opt.Force {
		existing, _ := filepath.Glob(filepath.Join(opt.Dir, "*.cue"))
		if len(existing) > 0 {
			return nil, fmt.Errorf("%s already holds .cue files (%s); use --force to overwrite them", opt.Dir, filepath.Base(existing[0]))
		}
	}
	if len(r.Endpoints) == 0 {
		return nil, fmt.Errorf("%s holds no requests: nothing to write", opt.Source)
	}
	dir := filepath.Clean(opt.Dir)
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return nil, fmt.Errorf("%s is a file, not a directory", opt.Dir)
	}
	// The temporary directory goes inside the spec directory, created
	// first when missing: beside it, it can be on another file system (a
	// spec directory that is a mounted volume, or a link to one), where
	// the final rename fails with "invalid cross-device link".
	created, err := mkdirAll(dir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dir, ".init-")
	if err != nil {
		removeCreated(dir, created)
		return nil, err
	}
	var names []string
	write := func(name, text string) error {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(text), 0o644); err != nil {
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err
			}
			return fmt.Errorf("write %s: %w", filepath.Join(opt.Dir, name), err)
		}
		names = append(names, name)
		return nil
	}
	if r.Endpoints[0].GRPC != "" {
		err = writeRPC(r, opt, write)
	} else {
		err = writeHTTP(r, opt, write)
	}
	if err == nil {
		err = moveInto(tmp, dir, names)
	}
	os.RemoveAll(tmp) // empty, or what a failure left
	if err != nil {
		removeCreated(dir, created)
		return nil, err
	}
	files := make([]string, len(names))
	for i, name := range names {
		files[i] = filepath.Join(opt.Dir, name)
	}
	return files, nil
}

// mkdirAll creates dir and its missing parents, and returns the first one
// it created ("" when dir existed), for removeCreated.
func mkdirAll(dir string) (created string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		created = d
	}
	return created, os.MkdirAll(dir, 0o755)
}

// removeCreated removes the directories mkdirAll created for dir, from
// dir up to created, each only while it is empty: another init into the
// same new directory (its temporary directory, or files it moved in) is
// left alone.
func removeCreated(dir, created string) {
	if created == "" {
		return
	}
	for d := dir; ; d = filepath.Dir(d) {
		if os.Remove(d) != nil || d == created || filepath.Dir(d) == d {
			return
		}
	}
}

// moveInto moves the files names from tmp into dir, both on one file
// system: a rename needs no space on a full disk.
func moveInto(tmp, dir string, names []string) error {
	for _, name := range names {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// writeHTTP writes the starter specs of a recording of HTTP requests.
func writeHTTP(r *Result, opt Options, write func(name, text string) error) error {
	main := fmt.Sprintf(`// Written by shadowtest init from %s: %d requests, %d endpoints.
// Edit the endpoints' files: what to ignore, tolerances, which arrays are
// sets, thresholds. `+"`shadowtest schema`"+` prints the reference.
package shadow

// Override the urls with -t prod=URL -t shadow=URL.
targets: {
	prod: {
		url: *"http://127.0.0.1:8081" | string @tag(prod)
	}
	shadow: {
		url: *"http://127.0.0.1:8082" | string @tag(shadow)
	}
}

traffic: [{%s: %s}]

mirror: {
	concurrency: 8
	writes:      "skip" // POST, PUT, PATCH and DELETE are not sent: see the schema for isolated, dry-run, record-only
}

defaults: {
	ignore: ["header:Date"]
	headers: ["Content-Type"]
	thresholds: {matchRate: 0.99, minSamples: 1}
}
`, cueComment(opt.Source), r.Requests, len(r.Endpoints), opt.Format, quote(opt.Traffic))
	for _, method := range slices.Sorted(maps.Keys(r.OtherMethods)) {
		main += fmt.Sprintf("\n// %d %s requests were left out: a spec endpoint cannot select that method.\n", r.OtherMethods[method], cueComment(method))
	}
	if r.Other > 0 {
		main += fmt.Sprintf("\n// %d more requests had templates beyond the first %d endpoints.\n", r.Other, MaxEndpoints)
	}
	if err := write("shadow.cue", main); err != nil {
		return err
	}
	width := len(fmt.Sprint(len(r.Endpoints)))
	for i, e := range r.Endpoints {
		text := fmt.Sprintf(`package shadow

// %s %s: %d requests observed in %s (for example %s).
endpoints: %s: {
	method: %s
	path:   %s
	// ignore: ["$.updatedAt"]           // body paths whose differences do not count
	// tolerance: "$.total": {abs: 0.01} // numeric slack
	// thresholds: matchRate: 0.999
}
`, e.Method, cueComment(e.Path), e.Count, cueComment(opt.Source), cueComment(e.Example), quote(e.Name), quote(e.Method), quote(e.Path))
		if err := write(fmt.Sprintf("%0*d-%s.cue", width, i+1, e.Name), text); err != nil {
			return err
		}
	}
	return nil
}

// quote writes s as a CUE string: Go's quoting of printable text is valid
// CUE; control characters (never in a reader's URL), C1 controls and bidi
// overrides (which reorder what a reviewer reads) are escaped as \u.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// cueComment keeps a value on one comment line, its C1 controls and
// bidi overrides shown as \u escapes.
func cueComment(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hidden reports whether r must not be written as is: a control
// character (C0, DEL, C1) or a bidi override.
func hidden(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || scrub.Bidi(r)
}

// writeRPC writes the starter specs of a recording of RPCs: grpc://
// targets, descriptors from prod's server reflection (or protos), one
// endpoint per service and method.
func writeRPC(r *Result, opt Options, w func(name, text string) error) error {
	main := fmt.Sprintf(`// Written by shadowtest init from %s: %d calls, %d gRPC endpoints.
// Edit the endpoints' files: what to ignore, tolerances, which repeated
// fields are sets, thresholds. `+"`shadowtest schema`"+` prints the reference.
package shadow

// Override the urls with -t prod=URL -t shadow=URL (grpcs:// for TLS).
targets: {
	prod: {
		url: *"grpc://127.0.0.1:9091" | string @tag(prod)
	}
	shadow: {
		url: *"grpc://127.0.0.1:9092" | string @tag(shadow)
	}
}

// The descriptors: prod's server reflection, or the .proto files:
//   grpc: {protos: ["proto/service.proto"], importPaths: ["proto"]}
grpc: reflection: true

traffic: [{%s: %s}]

mirror: {
	concurrency: 8
	// Calls are writes unless the proto says idempotency_level =
	// NO_SIDE_EFFECTS or the endpoint says safe: true: "skip" does not
	// send them (see the schema for isolated, dry-run, record-only).
	writes: "skip"
}

defaults: thresholds: {matchRate: 0.99, minSamples: 1}
`, cueComment(opt.Source), r.Requests-r.HTTPLeftOut, len(r.Endpoints), opt.Format, quote(opt.Traffic))
	if r.HTTPLeftOut > 0 {
		main += fmt.Sprintf("\n// %d HTTP requests were left out: gRPC targets cannot answer them; init them from a recording of their own.\n", r.HTTPLeftOut)
	}
	if r.Other > 0 {
		main += fmt.Sprintf("\n// %d more calls had methods beyond the first %d endpoints.\n", r.Other, MaxEndpoints)
	}
	if err := w("shadow.cue", main); err != nil {
		return err
	}
	width := len(fmt.Sprint(len(r.Endpoints)))
	for i, e := range r.Endpoints {
		text := fmt.Sprintf(`package shadow

// %s: %d calls observed in %s.
endpoints: %s: {
	grpc: %s
	// safe: true                              // no side effects: sent whatever mirror.writes says
	// ignore: ["$.requestId"]                 // message paths whose differences do not count
	// tolerance: "$.total": {abs: 0.01}       // numeric slack
	// unordered: ["$.items"]                  // repeated fields compared as sets ("$" for a stream)
	// thresholds: matchRate: 0.999
}
`, cueComment(e.GRPC), e.Count, cueComment(opt.Source), quote(e.Name), quote(e.GRPC))
		if err := w(fmt.Sprintf("%0*d-%s.cue", width, i+1, e.Name), text); err != nil {
			return err
		}
	}
	return nil
}
