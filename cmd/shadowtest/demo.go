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
	"github.com/shadowtest/shadowtest/fixtures/grpcdemo"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/specs"
)

const demoExamples = `  shadowtest demo                      # v1 vs v2: every threshold holds, exit 0
  shadowtest demo --with-regression    # v2 has a bug: the orders endpoint fails, exit 1
  shadowtest demo --junit out/junit.xml
  shadowtest demo --grpc               # the same with the gRPC demo shop: unary and streaming RPCs
  shadowtest demo --grpc --with-regression`

// demoCommand runs the embedded demo: the built-in v1 ("prod") and v2
// ("shadow") services on loopback, the specs in specs/demo and the HAR in
// fixtures/traffic, through the same path as `shadowtest run`.
func demoCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "[flags]", demoExamples, stdout, stderr)
	var opt runOptions
	opt.register(fs)
	regression := fs.Bool("with-regression", false, "switch on the documented regression in v2 (fixtures/DIFFERENCES.md)")
	grpcDemo := fs.Bool("grpc", false, "run the gRPC demo instead: the gRPC shop's v1 and v2 (fixtures/grpcdemo), specs/grpcdemo and recorded RPCs")
	serve := fs.Bool("serve", false, "only start v1 on 127.0.0.1:8081 and v2 on 127.0.0.1:8082 (the spec defaults; with --grpc 9091 and 9092) until interrupted, to try the commands of the tutorial")
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if err := checkOutputFlags(fs, outputFlags...); err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
		return exitInvalid
	}

	if *serve {
		return serveDemo(*grpcDemo, *regression, stdout, stderr)
	}
	services := startHTTPDemo
	specFS, specDir := specs.Demo, "demo"
	if *grpcDemo {
		services = startGRPCDemo
		specFS, specDir = specs.GRPCDemo, "grpcdemo"
	}
	prodURL, shadowURL, stop, err := services(*regression, 0, 0)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo: %v\n", err)
		return exitAborted
	}
	defer stop()

	dir, err := extractDemo(specFS)
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

	fmt.Fprintf(console(opt.outputs, stdout, stderr), "demo: prod (v1) at %s, shadow (v2%s) at %s\n", prodURL, map[bool]string{true: " with the regression", false: ""}[*regression], shadowURL)
	plan, err := spec.Load(filepath.Join("specs", specDir), spec.Options{Targets: map[string]string{"prod": prodURL, "shadow": shadowURL}})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	return execute(plan, opt, stdout, stderr)
}

// startHTTPDemo starts the HTTP demo shop's v1 and v2 on loopback (ports 0:
// the system picks) and returns their URLs and a function that stops both.
func startHTTPDemo(regression bool, prodPort, shadowPort int) (prodURL, shadowURL string, stop func(), err error) {
	prod, err := demo.Start(demo.V1, demo.Options{Port: prodPort})
	if err != nil {
		return "", "", nil, err
	}
	shadow, err := demo.Start(demo.V2, demo.Options{Port: shadowPort, Regression: regression})
	if err != nil {
		prod.Close()
		return "", "", nil, err
	}
	return prod.URL, shadow.URL, func() { shadow.Close(); prod.Close() }, nil
}

// startGRPCDemo is startHTTPDemo for the gRPC demo shop (grpc:// URLs).
func startGRPCDemo(regression bool, prodPort, shadowPort int) (prodURL, shadowURL string, stop func(), err error) {
	prod, err := grpcdemo.Start(grpcdemo.V1, grpcdemo.Options{Port: prodPort})
	if err != nil {
		return "", "", nil, err
	}
	shadow, err := grpcdemo.Start(grpcdemo.V2, grpcdemo.Options{Port: shadowPort, Regression: regression})
	if err != nil {
		prod.Close()
		return "", "", nil, err
	}
	return prod.URL, shadow.URL, func() { shadow.Close(); prod.Close() }, nil
}

// extractDemo writes the embedded demo specs (specs.Demo or
// specs.GRPCDemo) and traffic to a temporary directory with the
// repository's layout, so the specs' relative traffic paths resolve as they
// do in a checkout.
func extractDemo(specFS fs.FS) (string, error) {
	dir, err := os.MkdirTemp("", "shadowtest-demo-")
	if err != nil {
		return "", err
	}
	if err := copyFS(specFS, filepath.Join(dir, "specs")); err != nil {
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

// serveDemo runs the two demo services (the gRPC ones with grpc) on the
// spec defaults' ports until SIGINT or SIGTERM.
func serveDemo(grpc, regression bool, stdout, stderr io.Writer) int {
	services, prodPort, shadowPort := startHTTPDemo, 8081, 8082
	if grpc {
		services, prodPort, shadowPort = startGRPCDemo, 9091, 9092
	}
	prodURL, shadowURL, stop, err := services(regression, prodPort, shadowPort)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest demo --serve: %v (ports %d and %d must be free: is another demo --serve running?)\n", err, prodPort, shadowPort)
		return exitAborted
	}
	defer stop()
	fmt.Fprintf(stdout, "demo: prod (v1) at %s, shadow (v2) at %s; Ctrl-C stops them\n", prodURL, shadowURL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return exitPass
}
