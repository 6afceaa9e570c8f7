package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/shadowtest/shadowtest/fixtures"
	"github.com/shadowtest/shadowtest/fixtures/demo"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/specs"
)

const demoExamples = `  shadowtest demo                      # v1 vs v2: every threshold holds, exit 0
  shadowtest demo --with-regression    # v2 has a bug: the orders endpoint fails, exit 1
  shadowtest demo --junit out/junit.xml`

// demoCommand runs the embedded demo: the built-in v1 ("prod") and v2
// ("shadow") services on loopback, the specs in specs/demo and the HAR in
// fixtures/traffic, through the same path as `shadowtest run`.
func demoCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "[flags]", demoExamples, stdout, stderr)
	var opt runOptions
	opt.register(fs)
	regression := fs.Bool("with-regression", false, "switch on the documented regression in v2 (fixtures/DIFFERENCES.md)")
	serve := fs.Bool("serve", false, "only start v1 on 127.0.0.1:8081 and v2 on 127.0.0.1:8082 (the spec defaults) until interrupted, to try the commands of the tutorial")
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if err := checkOutputFlags(fs, outputFlags...); err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
		return exitInvalid
	}

	if *serve {
		return serveDemo(*regression, stdout, stderr)
	}
	prod, err := demo.Start("v1", demo.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: starting v1: %v\n", err)
		return exitAborted
	}
	defer prod.Close()
	shadow, err := demo.Start("v2", demo.Options{Regression: *regression})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: starting v2: %v\n", err)
		return exitAborted
	}
	defer shadow.Close()

	dir, err := extractDemo()
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
		return exitAborted
	}
	defer os.RemoveAll(dir)

	// Work from the extracted tree so that spec positions and record names
	// read as they do in a checkout (specs/demo/orders.cue:12:3); output
	// files stay where the user asked for them.
	if err := opt.outputs.absolute(); err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
		return exitInvalid
	}
	if opt.noise != "" {
		if opt.noise, err = filepath.Abs(opt.noise); err != nil {
			fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
			return exitInvalid
		}
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
		return exitAborted
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
		return exitAborted
	}
	defer os.Chdir(cwd)

	fmt.Fprintf(console(opt.outputs, stdout, stderr), "demo: prod (v1) at %s, shadow (v2%s) at %s\n", prod.URL, map[bool]string{true: " with the regression", false: ""}[*regression], shadow.URL)
	plan, err := spec.Load(filepath.Join("specs", "demo"), spec.Options{Targets: map[string]string{"prod": prod.URL, "shadow": shadow.URL}})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	return execute(plan, opt, stdout, stderr)
}

// extractDemo writes the embedded demo specs and traffic to a temporary
// directory with the repository's layout, so the specs' relative traffic
// paths resolve as they do in a checkout.
func extractDemo() (string, error) {
	dir, err := os.MkdirTemp("", "shadowtest-demo-")
	if err != nil {
		return "", err
	}
	if err := copyFS(specs.Demo, filepath.Join(dir, "specs")); err != nil {
		return "", err
	}
	if err := copyFS(fixtures.Traffic, filepath.Join(dir, "fixtures")); err != nil {
		return "", err
	}
	return dir, nil
}

func copyFS(src fs.FS, dst string) error {
	return fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// serveDemo runs the two demo services on the spec defaults' ports until
// SIGINT or SIGTERM.
func serveDemo(regression bool, stdout, stderr io.Writer) int {
	prod, err := demo.Start(demo.V1, demo.Options{Port: 8081})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo --serve: %v\n", err)
		return exitAborted
	}
	defer prod.Close()
	shadow, err := demo.Start(demo.V2, demo.Options{Port: 8082, Regression: regression})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo --serve: %v\n", err)
		return exitAborted
	}
	defer shadow.Close()
	fmt.Fprintf(stdout, "demo: prod (v1) at %s, shadow (v2) at %s; Ctrl-C stops them\n", prod.URL, shadow.URL)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return exitPass
}
