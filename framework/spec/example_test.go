package spec_test

import (
	"fmt"
	"path/filepath"

	"github.com/shadowtest/shadowtest/framework/spec"
)

func ExampleLoad() {
	plan, err := spec.Load(filepath.Join("testdata", "good", "full"), spec.Options{
		Targets: map[string]string{"shadow": "http://127.0.0.1:9999"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("prod:", plan.Prod.URL, "shadow:", plan.Shadow.URL)
	for _, e := range plan.Endpoints {
		fmt.Printf("%s %s %s matchRate=%v minSamples=%d (%s)\n", e.Name, e.Method, e.Path,
			e.Thresholds.MatchRate, e.Thresholds.MinSamples, e.Thresholds.MatchRatePos)
	}
	// Output:
	// prod: http://127.0.0.1:9001 shadow: http://127.0.0.1:9999
	// get-user GET /users/{id} matchRate=0.999 minSamples=50 (testdata/good/full/users.cue:8:3)
	// list-users GET /users matchRate=0.95 minSamples=50 (testdata/good/full/users.cue:23:14)
	// create-user POST /users matchRate=0.999 minSamples=5 (testdata/good/full/users.cue:8:3)
}

func ExampleError() {
	_, err := spec.Load(filepath.Join("testdata", "bad", "bad_enum"), spec.Options{})
	fmt.Println(err)
	// Output:
	// testdata/bad/bad_enum/spec.cue:3:17: mirror.writes: invalid value "all" (must be one of "skip", "isolated", "dry-run", "record-only")
}
