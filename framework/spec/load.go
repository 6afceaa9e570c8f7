package spec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/mod/modconfig"
	"cuelang.org/go/mod/modfile"
	"cuelang.org/go/mod/module"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/schemas"
)

// Options change how a spec directory is loaded.
type Options struct {
	// Tags are CUE tags, as `cue export -t` takes them: "key=value" sets
	// every field declared with @tag(key), "key" alone selects the files
	// marked @if(key). A tag no file declares is an error, as in cue.
	// prod=URL and shadow=URL are also target overrides (see Targets):
	// they work whether or not the spec declares @tag(prod).
	Tags []string
	// Targets overrides the url of a target, keyed "prod" or "shadow"
	// (the CLI's -t prod=URL). A value must be an http or https URL. It
	// replaces targets.<name>.url whether or not the spec declares
	// @tag(<name>); when it does, the value is also injected as that tag,
	// so other fields computed from it follow. A Targets entry wins over
	// a prod= or shadow= tag.
	Targets map[string]string
	// Live says the caller never replays the spec's traffic (shadowtest
	// proxy takes its traffic from the clients): the traffic files are not
	// checked, so a spec whose recording is missing, or that names none,
	// still loads. Run leaves it false and reports a missing file at its
	// line and column.
	Live bool
	// Send says the caller sends the spec's requests now (run, proxy; not
	// vet, which CI runs without the run step's secrets): a target header
	// that reads a variable unset or empty in the environment is then an
	// error. It would go out empty on every request, and two targets
	// refusing it alike (a pull request from a fork gets no secrets)
	// would match, passing the gate on nothing.
	Send bool
}

// targetNames are the targets a spec has, in report order.
var targetNames = []string{"prod", "shadow"}

// Load reads every .cue file of dir (with or without a package clause),
// unifies them with the closed #Spec schema and returns the plan they
// describe. Relative traffic paths are resolved against dir. Any mistake is
// returned as an *Error listing every problem found.
func Load(dir string, opt Options) (plan *framework.Plan, err error) {
	defer func() {
		// CUE is a large evaluator fed with user input: a panic in it must
		// still come out as an invalid spec, not a stack trace.
		if r := recover(); r != nil {
			plan, err = nil, &Error{Problems: []Problem{{
				Pos:     framework.Position{File: dir},
				Message: fmt.Sprintf("internal error while evaluating the spec: %v", r),
			}}}
		}
	}()
	targets, tags := splitTags(opt)
	if problems := checkTargets(targets); len(problems) > 0 {
		return nil, newError(problems)
	}
	f, err := newFiles(dir)
	if err != nil {
		return nil, err
	}
	if problem := checkDir(f.dir, f.absDir); problem != "" {
		if nested := NestedDirs(f.dir); problem == noCUEFiles && len(nested) > 0 {
			if len(nested) > 4 {
				nested = append(nested[:4:4], "...")
			}
			problem = "no .cue files in the spec directory, but its subdirectories hold specs: give one of them (" + strings.Join(nested, ", ") + ")"
		}
		return nil, newError([]Problem{{Pos: framework.Position{File: f.dir}, Message: problem}})
	}
	l := &loader{files: f, targets: targets, tags: tags, live: opt.Live, send: opt.Send}
	value, err := l.evaluate()
	if err != nil {
		return nil, err
	}
	return l.decode(value)
}

// noCUEFiles says what to do with a spec directory without a spec.
const noCUEFiles = "no .cue files in the spec directory: write a spec there (package shadow), or let `shadowtest init --from TRAFFIC DIR` write starter specs from recorded traffic"

// checkDir says what is wrong with the spec directory argument, "" when
// it is a directory holding at least one .cue file.
func checkDir(dir, abs string) string {
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "spec directory not found"
	case err != nil:
		return fmt.Sprintf("spec directory cannot be read: %v", err)
	case !info.IsDir():
		return fmt.Sprintf("is a file, not a directory: give the directory that holds the spec files (%s)", filepath.Dir(dir))
	}
	matches, err := filepath.Glob(filepath.Join(abs, "*.cue"))
	if err == nil && len(matches) == 0 {
		return noCUEFiles
	}
	return ""
}

// splitTags separates the target overrides (Options.Targets and the prod=
// and shadow= tags) from the other CUE tags.
func splitTags(opt Options) (targets map[string]string, tags []string) {
	targets = map[string]string{}
	for _, tag := range opt.Tags {
		name, value, ok := strings.Cut(tag, "=")
		if ok && slices.Contains(targetNames, name) {
			targets[name] = value
			continue
		}
		tags = append(tags, tag)
	}
	maps.Copy(targets, opt.Targets)
	return targets, tags
}

// checkTargets validates -t values before anything is loaded.
func checkTargets(targets map[string]string) []Problem {
	var problems []Problem
	for name, raw := range targets {
		path := "targets." + name + ".url"
		if name != "prod" && name != "shadow" {
			problems = append(problems, Problem{Path: "targets." + name, Message: fmt.Sprintf("unknown target %q in -t (want prod or shadow)", name)})
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || !slices.Contains([]string{"http", "https", "grpc", "grpcs"}, u.Scheme) || u.Host == "" {
			problems = append(problems, Problem{Path: path, Message: fmt.Sprintf("invalid -t %s=%q (want an http:// or https:// URL with a host)", name, scrub.URL(raw))})
			continue
		}
		if problem := targetURLProblem(raw); problem != "" {
			problems = append(problems, Problem{Path: path, Message: fmt.Sprintf("invalid -t %s=%q: %s", name, scrub.URL(raw), problem)})
		}
	}
	return problems
}

// targetURLProblem says what is wrong with a target's base URL that the
// schema's scheme check lets through, "" when nothing is. Every request's
// path is appended to the URL as text: a query or a fragment in it sent
// every request to the URL's own path (GET / for all), and two targets
// given the same mistake answered alike, so the gate passed on nothing.
func targetURLProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a URL: " + strings.TrimPrefix(err.Error(), "parse "+strconv.Quote(raw)+": ")
	case u.RawQuery != "" || u.ForceQuery:
		return "a target URL takes no query (each request keeps its own): send a key the target needs as a header (targets.<name>.headers)"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "a target URL takes no fragment (#...)"
	case u.Hostname() == "":
		return "the URL has no host name"
	case strings.ContainsAny(raw, " \t\r\n"):
		// As written: an escaped space (/my%20app) is a path like any
		// other, joined to each request's path as text.
		return "the URL's path holds white space"
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "port " + port + " is not a TCP port (1 to 65535)"
		}
	}
	return ""
}

// loader holds what one Load call needs.
type loader struct {
	*files
	targets map[string]string // url overrides, by target name
	tags    []string          // the other CUE tags
	spec    cue.Value         // #Spec, for messages that list what is allowed
	user    cue.Value         // the user's files alone, for messages about what they hold
	pkg     string            // the package of the user's files, "" without a clause
	hidden  bool              // some user file declares a hidden field or a definition
	leftOut []string          // files of the package in parent directories, not loaded (Plan.LeftOut)
	live    bool              // Options.Live: the traffic files are not checked
	send    bool              // Options.Send: the variables target headers read must be set
}

// evaluate loads the directory and returns it unified with #Spec, with
// target urls filled in and every value concrete.
func (l *loader) evaluate() (cue.Value, error) {
	ctx := cuecontext.New()
	schema := ctx.CompileString(schemas.Shadow, cue.Filename(schemas.File))
	if err := schema.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("shadowtest: embedded schema does not compile: %v", err)
	}
	l.spec = schema.LookupPath(cue.MakePath(cue.Def("#Spec")))

	instances, err := l.instances()
	if err != nil {
		return cue.Value{}, err
	}
	var user cue.Value
	for i, inst := range instances {
		v := ctx.BuildInstance(inst)
		if err := v.Err(); err != nil {
			return cue.Value{}, newError(l.problems(err))
		}
		if i == 0 {
			user = v
		} else {
			user = user.Unify(v)
		}
	}
	// Always unified with #Spec, even when a file embeds it: embedding
	// does not close the user's struct, the definition does. The urls are
	// filled in the same step, since every Unify or FillPath of the full
	// value evaluates it again.
	l.user = user
	value := l.spec.Unify(l.urlFills(ctx, user, schema)).Unify(user)
	if err := value.Validate(cue.Concrete(true)); err != nil {
		return cue.Value{}, newError(l.problems(err))
	}
	return value, nil
}

// instances parses the directory's files: every package, including files
// without a package clause, since a spec is the whole directory.
func (l *loader) instances() ([]*build.Instance, error) {
	root, hasModule := moduleRoot(l.absDir)
	overlay := map[string]load.Source{}
	if !hasModule {
		// Imports need a module; a spec directory normally is not one.
		overlay[filepath.Join(root, "cue.mod", "module.cue")] = load.FromString(moduleCUE())
	}
	if !dependsOnSchema(root) {
		overlay[filepath.Join(root, filepath.FromSlash(VendorFile))] = load.FromString(schemas.Shadow)
	}
	registry, err := newRegistry()
	if err != nil {
		return nil, newError([]Problem{{Pos: framework.Position{File: l.dir}, Message: err.Error()}})
	}
	if problems := l.specialFiles(); len(problems) > 0 {
		return nil, newError(problems)
	}
	cfg := &load.Config{
		Dir:        l.absDir,
		ModuleRoot: root,
		Package:    "*",
		Overlay:    overlay,
		Registry:   registry,
		Tags:       l.cueTags(),
	}
	instances := load.Instances([]string{"."}, cfg)
	var problems []Problem
	userFiles := 0
	for _, inst := range instances {
		if inst.Err != nil {
			problems = append(problems, l.loadProblems(inst.Err)...)
			continue
		}
		if l.pkg == "" && inst.PkgName != "_" {
			l.pkg = inst.PkgName
		}
		l.ownFiles(inst)
		problems = append(problems, l.externProblems(inst, map[*build.Instance]bool{})...)
		for _, file := range inst.Files {
			l.index(file)
			l.hidden = l.hidden || hasHiddenLabel(file)
			userFiles++
		}
	}
	if userFiles == 0 && len(problems) == 0 {
		problems = append(problems, Problem{Pos: framework.Position{File: l.dir}, Message: noCUEFiles})
	}
	if err := newError(problems); err != nil {
		return nil, err
	}
	return instances, nil
}

// ownFiles keeps the spec directory's own files in inst and records the
// others in leftOut. Inside a CUE module, cue/load also unifies the files of
// the same package found in parent directories up to the module root (the
// cue command's instance rule), so `run specs/users` read specs/*.cue too:
// another spec's endpoints, and traffic paths written relative to specs/
// resolved against specs/users. A spec is the directory given; parent
// directories share fields through an import.
func (l *loader) ownFiles(inst *build.Instance) {
	own := inst.Files[:0:0]
	for _, file := range inst.Files {
		if filepath.Dir(file.Filename) == l.absDir {
			own = append(own, file)
			continue
		}
		name := file.Filename
		if rel, err := filepath.Rel(l.absDir, name); err == nil {
			name = filepath.Join(l.dir, rel)
		}
		l.leftOut = append(l.leftOut, name)
	}
	inst.Files = own
}

// specialFiles refuses the entries of the spec directory (and its
// subdirectories, which hold the packages it may import) that are not
// regular files or directories, or that resolve into /proc, /sys or /dev
// (a symlink is followed): cue/load opens the directory's files, and a
// FIFO would block it for ever, /dev/zero would be read until memory ran
// out. A pull request can add such a symlink.
func (l *loader) specialFiles() []Problem {
	var problems []Problem
	seen := 0
	filepath.WalkDir(l.absDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || path == l.absDir {
			return nil // cue/load reports what it cannot read
		}
		if seen++; seen > maxSpecEntries {
			return filepath.SkipAll // not a spec directory: cue/load reads only what it imports
		}
		if e.IsDir() {
			if strings.HasPrefix(e.Name(), ".") || e.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Stat(path) // follows a symlink; never opens
		if err != nil {
			return nil // a dangling symlink: nothing to read
		}
		special := !info.Mode().IsRegular() && !info.IsDir()
		if resolved, err := filepath.EvalSymlinks(path); err == nil {
			for _, dir := range []string{"/proc/", "/sys/", "/dev/"} {
				special = special || strings.HasPrefix(resolved+"/", dir)
			}
		}
		if special {
			rel, _ := filepath.Rel(l.absDir, path)
			problems = append(problems, Problem{Pos: framework.Position{File: filepath.Join(l.dir, rel)},
				Message: "not a regular file (a device, FIFO, socket or /proc, /sys or /dev entry): a spec directory holds files and directories only"})
		}
		return nil
	})
	return problems
}

// maxSpecEntries bounds specialFiles' walk of the spec directory.
const maxSpecEntries = 10000

// externProblems refuses @extern attributes (@extern(embed) and the
// like) in inst and the packages it imports: with @embed, a spec reads any
// file into a value, through a symlink too (/proc/self/environ holds the
// CI job's secrets), and a target header or URL sends it wherever the spec
// says. A spec's data belongs in its .cue files.
func (l *loader) externProblems(inst *build.Instance, seen map[*build.Instance]bool) []Problem {
	if seen[inst] {
		return nil
	}
	seen[inst] = true
	var problems []Problem
	for _, file := range inst.Files {
		for _, decl := range file.Decls {
			if attr, ok := decl.(*ast.Attribute); ok && attrKey(attr) == "extern" {
				problems = append(problems, Problem{Pos: l.position(attr.Pos()), Message: attr.Text +
					": a spec may not read files or run code through @extern (@embed could send any file, /proc/self/environ too, to a target): write the data into a .cue file"})
			}
		}
	}
	for _, imported := range inst.Imports {
		problems = append(problems, l.externProblems(imported, seen)...)
	}
	return problems
}

func attrKey(attr *ast.Attribute) string {
	key, _ := attr.Split()
	return key
}

// cueTags returns the tags given to cue/load: the other tags, and the
// target overrides whose @tag the spec declares, so that fields computed
// from a url follow it. A target override the spec has no @tag for is
// applied to the url alone (urlFills and decode), where cue would fail
// with "no tag for".
func (l *loader) cueTags() []string {
	tags := slices.Clone(l.tags)
	if len(l.targets) == 0 {
		return tags
	}
	declared := declaredTags(l.absDir)
	for _, name := range targetNames {
		if url, ok := l.targets[name]; ok && declared[name] {
			tags = append(tags, name+"="+url)
		}
	}
	return tags
}

// declaredTags lists the tag names of the @tag attributes in the
// directory's .cue files. Files that do not parse are left to cue/load,
// which reports them.
func declaredTags(dir string) map[string]bool {
	declared := map[string]bool{}
	names, _ := filepath.Glob(filepath.Join(dir, "*.cue"))
	for _, name := range names {
		file, err := parser.ParseFile(name, nil)
		if err != nil {
			continue
		}
		ast.Walk(file, func(n ast.Node) bool {
			if field, ok := n.(*ast.Field); ok {
				for _, attr := range field.Attrs {
					if key, body := attr.Split(); key == "tag" {
						name, _, _ := strings.Cut(body, ",")
						declared[strings.TrimSpace(name)] = true
					}
				}
			}
			return true
		}, nil)
	}
	return declared
}

// moduleRoot returns the CUE module dir belongs to, as the cue command
// finds it: the nearest directory, dir or a parent, with a
// cue.mod/module.cue. Without one, dir is its own module root.
func moduleRoot(dir string) (root string, found bool) {
	for d := dir; ; {
		if info, err := os.Stat(filepath.Join(d, "cue.mod", "module.cue")); err == nil && !info.IsDir() {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir, false
		}
		d = parent
	}
}

// dependsOnSchema reports whether the module at root depends on the
// schema's module through a registry. Load then leaves the import to the
// registry: the module's own copy and the embedded one would make it
// ambiguous.
func dependsOnSchema(root string) bool {
	data, err := os.ReadFile(filepath.Join(root, "cue.mod", "module.cue"))
	if err != nil {
		return false
	}
	f, err := modfile.ParseNonStrict(data, "module.cue")
	if err != nil {
		return false
	}
	for dep := range f.Deps {
		if path, _, _ := strings.Cut(dep, "@"); path == SchemaModulePath {
			return true
		}
	}
	return false
}

// urlFills returns the urls of the targets the spec leaves open (no value
// and no default of its own): the -t override, else the schema's
// #DefaultURL. An override of a url the spec does set is applied to the plan
// after decoding.
func (l *loader) urlFills(ctx *cue.Context, user, schema cue.Value) cue.Value {
	fills := map[string]any{}
	for _, name := range targetNames {
		path := cue.MakePath(cue.Str("targets"), cue.Str(name), cue.Str("url"))
		if current, _ := user.LookupPath(path).Default(); current.IsConcrete() {
			continue
		}
		if override, ok := l.targets[name]; ok {
			fills[name] = map[string]string{"url": override}
			continue
		}
		fallback, _ := schema.LookupPath(cue.MakePath(cue.Def("#DefaultURL"), cue.Str(name))).String()
		fills[name] = map[string]string{"url": fallback}
	}
	return ctx.Encode(map[string]any{"targets": fills})
}

// newRegistry returns the module registry of CUE_REGISTRY, as the cue
// command uses it, or, when it is not set, none: Load then never goes to
// the network, and a spec can import only the schema.
func newRegistry() (modconfig.Registry, error) {
	if os.Getenv("CUE_REGISTRY") == "" {
		return noRegistry{}, nil
	}
	registry, err := modconfig.NewRegistry(nil)
	if err != nil {
		return nil, fmt.Errorf("CUE_REGISTRY: %v", err)
	}
	return registry, nil
}

// noRegistry keeps cue/load off the network: a spec can import the schema,
// which Load provides, and nothing else.
type noRegistry struct{}

var errNoRegistry = errors.New("no CUE module registry: set CUE_REGISTRY to import modules other than " + ImportPath)

func (noRegistry) ModFile(context.Context, module.Version) (*modfile.File, error) {
	return nil, errNoRegistry
}

func (noRegistry) Fetch(context.Context, module.Version) (module.SourceLoc, error) {
	return module.SourceLoc{}, errNoRegistry
}

func (noRegistry) ModuleVersions(context.Context, string) ([]string, error) {
	return nil, errNoRegistry
}
