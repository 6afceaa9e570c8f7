package main

import (
	"path/filepath"
	"testing"

	"github.com/shadowtest/shadowtest/fixtures/grpcdemo"
)

// grpcDemoEndpoints are the endpoints of specs/grpcdemo and
// specs/grpcsynthetic.
var grpcDemoEndpoints = []string{"get-product", "search-products", "watch-prices"}

// startGRPCShop starts the gRPC demo shop's two versions in-process.
func startGRPCShop(t *testing.T, regression bool) (prod, shadow string) {
	t.Helper()
	p, err := grpcdemo.Start(grpcdemo.V1, grpcdemo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, err := grpcdemo.Start(grpcdemo.V2, grpcdemo.Options{Regression: regression})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return p.URL, s.URL
}

// TestGRPCSyntheticSpec runs specs/grpcsynthetic (300 gRPC calls generated
// from rpc templates) against the gRPC demo shop: every endpoint gets
// pairs and passes; with the regression, search-products fails.
func TestGRPCSyntheticSpec(t *testing.T) {
	for _, regression := range []bool{false, true} {
		prod, shadow := startGRPCShop(t, regression)
		junit := filepath.Join(t.TempDir(), "junit.xml")
		r := shadowtest(t, "run", "specs/grpcsynthetic", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit)
		want := map[bool]int{false: 0, true: 1}[regression]
		if r.code != want {
			t.Fatalf("regression %v: exit %d, want %d\n%s\n%s", regression, r.code, want, r.stdout, r.stderr)
		}
		j := readJUnit(t, junit)
		for _, e := range grpcDemoEndpoints {
			c, ok := j.cases()["shadowtest."+e+"/"+e+": match rate >= 0.99 (min 20 pairs)"]
			failed := ok && c.Failure != nil
			if !ok || c.Skipped != nil || failed != (regression && e == "search-products") {
				t.Errorf("regression %v: %s: match-rate case %+v", regression, e, c)
			}
		}
		if regression && j.Failures != 1 {
			t.Errorf("%d failures with the regression, want 1 (search-products)", j.Failures)
		}
	}
}
