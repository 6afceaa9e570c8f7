package examplesuite_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/shadowtest/shadowtest/fixtures/demo"
	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/framework/suite"
)

// TestRunLeavesTheTeamsSpecsAlone comes first: suite.Run, the CLI's entry
// point, must refuse to run in a test binary whose Ginkgo suite has specs
// of its own instead of discarding them (TestShadow then checks that they
// all still run).
func TestRunLeavesTheTeamsSpecsAlone(t *testing.T) {
	_, err := suite.Run(context.Background(), suite.Config{Plan: plan, Results: observe.NewResults(plan.Endpoints),
		Replay: func(context.Context) error { return errors.New("must not run") }})
	if !errors.Is(err, suite.ErrSuiteHasSpecs) {
		t.Fatalf("suite.Run in a suite with specs of its own: %v, want ErrSuiteHasSpecs", err)
	}
}

// TestShadow is an ordinary Ginkgo bootstrap: `go test` runs the team's
// own specs and shadowtest's side by side.
func TestShadow(t *testing.T) {
	RegisterFailHandler(Fail)
	if !RunSpecs(t, "shop migration") {
		return
	}
	checkReport(t)
}

// The team's own specs, which have nothing to do with shadowtest.
var _ = Describe("checkout rules", func() {
	It("rounds totals to the cent", func() {
		Expect(roundCents(10.005)).To(Equal(10.01))
	})
	It("cannot start a second suite from inside this one", func() {
		_, err := suite.Run(context.Background(), suite.Config{Plan: plan, Results: observe.NewResults(plan.Endpoints)})
		Expect(err).To(MatchError(suite.ErrSuiteHasSpecs))
	})
})

func roundCents(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// The systems under test. A team points at its staging systems, for
// example with spec.Options{Tags: []string{"prod=" + os.Getenv("PROD_URL")}};
// the example listens on loopback now and serves the demo shop during the
// replay. The urls go through Load, so they are validated like -t.
var (
	prodListener, shadowListener = listen(), listen()
	plan                         = mustLoad("../../../specs/demo", spec.Options{Tags: []string{
		"prod=http://" + prodListener.Addr().String(),
		"shadow=http://" + shadowListener.Addr().String(),
	}})
	results = observe.NewResults(plan.Endpoints)
)

func listen() net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	return l
}

// The spec directory is loaded when the suite is built, because its
// endpoints become Describe containers.
func mustLoad(dir string, opt spec.Options) *framework.Plan {
	plan, err := spec.Load(dir, opt)
	if err != nil {
		panic(err) // a bad spec is a broken suite
	}
	return plan
}

// shadow is shadowtest's part of the suite: one Describe per endpoint, one
// It per threshold; the replay runs once, in their BeforeAll, with the spec
// context; then, in Config.Also, the team's own assertions over the same
// results. Declare may sit inside the team's containers, but not inside an
// Ordered one.
var shadow *suite.Declared

var _ = Describe("shop migration", func() {
	shadow = suite.Declare(suite.Config{
		Plan:    plan,
		Results: results,
		Replay: func(ctx context.Context) error {
			stop := serve(prodListener, demo.V1)
			defer stop()
			defer serve(shadowListener, demo.V2)()
			return runner.Run(ctx, plan, results, runner.Options{})
		},
		Also: func() {
			Describe("orders", func() {
				It("covers every order in the traffic, with the same matchers", func() {
					Expect(shadow.ReplayErr()).NotTo(HaveOccurred())
					orders := results.Endpoint("get-order")
					Expect(orders.Pairs).To(BeNumerically(">=", 80))
					Expect(orders).To(suite.HoldMatchRate(plan.Endpoints[indexOf("get-order")].Thresholds))
				})
			})
		},
	})
})

// serve answers on l with the demo shop of version until stop is called.
func serve(l net.Listener, version string) (stop func()) {
	server := &http.Server{Handler: demo.Handler(version, demo.Options{})}
	go server.Serve(l)
	return func() { server.Close() }
}

func indexOf(name string) int {
	for i, e := range plan.Endpoints {
		if e.Name == name {
			return i
		}
	}
	Fail("no endpoint " + name)
	return -1
}

var report Report

var _ = ReportAfterSuite("keep the report", func(r Report) { report = r })

// checkReport checks what the suite ran and how shadowtest's JUnit files
// it: the team's own spec ran next to shadowtest's, and the spec added
// with Also is in the "also" group, not in an endpoint's or "run".
func checkReport(t *testing.T) {
	teamRan := false
	for _, r := range report.SpecReports {
		if r.LeafNodeType == types.NodeTypeIt && r.LeafNodeText == "rounds totals to the cent" {
			teamRan = r.State == types.SpecStatePassed
		}
	}
	if !teamRan {
		t.Error("the team's own spec did not run and pass next to shadowtest's")
	}
	var buf bytes.Buffer
	if err := suite.WriteJUnit(&buf, report, plan, results); err != nil {
		t.Fatal(err)
	}
	var junit struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &junit); err != nil {
		t.Fatal(err)
	}
	classOf := map[string]string{}
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			classOf[c.Name] = c.Classname
		}
	}
	for name, class := range map[string]string{
		"checkout rules: rounds totals to the cent":                       "shadowtest.checkout rules",
		"also: covers every order in the traffic, with the same matchers": "shadowtest.also",
		"run: replays all traffic":                                        "shadowtest.run",
		"get-order: match rate >= 0.99 (min 20 pairs)":                    "shadowtest.get-order",
	} {
		if classOf[name] != class {
			t.Errorf("JUnit case %q has class %q, want %q (cases: %v)", name, classOf[name], class, classOf)
		}
	}
}
