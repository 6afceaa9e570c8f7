package spec

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/mod/modfile"
	"cuelang.org/go/mod/module"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/schemas"
)

// Options change how a spec directory is loaded.
type Options struct {
	// Targets overrides the url of a target, keyed "prod" or "shadow"
	// (the CLI's -t prod=URL). A value must be an http or https URL. It
	// replaces targets.<name>.url whether or not the spec declares
	// @tag(<name>); when it does, the value is also injected as that tag,
	// so other fields computed from it follow.
	Targets map[string]string
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
	if problems := checkTargets(opt.Targets); len(problems) > 0 {
		return nil, newError(problems)
	}
	f, err := newFiles(dir)
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(f.absDir); err != nil || !info.IsDir() {
		return nil, newError([]Problem{{Pos: framework.Position{File: f.dir}, Message: "spec directory not found"}})
	}
	l := &loader{files: f, opt: opt}
	value, err := l.evaluate()
	if err != nil {
		return nil, err
	}
	return l.decode(value)
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
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, Problem{Path: path, Message: fmt.Sprintf("invalid -t %s=%q (want an http:// or https:// URL with a host)", name, raw)})
		}
	}
	return problems
}

// loader holds what one Load call needs.
type loader struct {
	*files
	opt  Options
	spec cue.Value // #Spec, for messages that list what is allowed
	user cue.Value // the user's files alone, for messages about what they hold
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
	overlay := map[string]load.Source{
		filepath.Join(l.absDir, filepath.FromSlash(VendorFile)): load.FromString(schemas.Shadow),
	}
	// Imports need a module; a spec directory normally is not one.
	moduleFile := filepath.Join(l.absDir, "cue.mod", "module.cue")
	if _, err := os.Stat(moduleFile); err != nil {
		overlay[moduleFile] = load.FromString(moduleCUE())
	}
	cfg := &load.Config{
		Dir:        l.absDir,
		ModuleRoot: l.absDir, // never pick up files or modules from parent directories
		Package:    "*",
		Overlay:    overlay,
		Registry:   noRegistry{},
	}
	instances := load.Instances([]string{"."}, cfg)
	var problems []Problem
	userFiles := 0
	for _, inst := range instances {
		if inst.Err != nil {
			problems = append(problems, l.loadProblems(inst.Err)...)
			continue
		}
		for _, file := range inst.Files {
			injectTargets(file, l.opt.Targets)
			l.index(file)
			userFiles++
		}
	}
	if userFiles == 0 && len(problems) == 0 {
		problems = append(problems, Problem{Pos: framework.Position{File: l.dir}, Message: "no .cue files in the spec directory"})
	}
	if err := newError(problems); err != nil {
		return nil, err
	}
	return instances, nil
}

// injectTargets does what cue/load does for `-t key=value`, for the keys
// prod and shadow: a field tagged @tag(prod) gets `& "URL"`. Loading with
// load.Config.Tags instead would fail on specs that declare no such tag.
func injectTargets(file *ast.File, targets map[string]string) {
	if len(targets) == 0 {
		return
	}
	ast.Walk(file, func(n ast.Node) bool {
		field, ok := n.(*ast.Field)
		if !ok {
			return true
		}
		for _, attr := range field.Attrs {
			key, body := attr.Split()
			if key != "tag" {
				continue
			}
			name, _, _ := strings.Cut(body, ",")
			if value, ok := targets[strings.TrimSpace(name)]; ok {
				field.Value = ast.NewBinExpr(token.AND, field.Value, ast.NewString(value))
			}
		}
		return true
	}, nil)
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
		if override, ok := l.opt.Targets[name]; ok {
			fills[name] = map[string]string{"url": override}
			continue
		}
		fallback, _ := schema.LookupPath(cue.MakePath(cue.Def("#DefaultURL"), cue.Str(name))).String()
		fills[name] = map[string]string{"url": fallback}
	}
	return ctx.Encode(map[string]any{"targets": fills})
}

// noRegistry keeps cue/load off the network: a spec can import the schema,
// which Load provides, and nothing else.
type noRegistry struct{}

var errNoRegistry = errors.New("CUE module registries are not used: a spec can import only " + ImportPath)

func (noRegistry) ModFile(context.Context, module.Version) (*modfile.File, error) {
	return nil, errNoRegistry
}

func (noRegistry) Fetch(context.Context, module.Version) (module.SourceLoc, error) {
	return module.SourceLoc{}, errNoRegistry
}

func (noRegistry) ModuleVersions(context.Context, string) ([]string, error) {
	return nil, errNoRegistry
}
