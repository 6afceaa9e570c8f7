//go:build cpuprofile

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// A binary built with -tags cpuprofile writes a CPU profile of the whole
// command to the file $SHADOWTEST_CPUPROFILE names (go run ./fixtures/bench
// -cpuprofile). Release binaries are built without the tag.
func init() {
	path := os.Getenv("SHADOWTEST_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shadowtest: cpu profile:", err)
		return
	}
	stopProfile = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
