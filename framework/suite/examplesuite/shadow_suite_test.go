package examplesuite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/shadowtest/shadowtest/fixtures/demo"
	"github.com/shadowtest/shadowtest/fixtures/testenv"
	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/framework/suite"
)

// TestShadow is an ordinary Ginkgo bootstrap: `go test` runs the team's
// own specs and shadowtest's side by side.
func TestShadow(t *testing.T) {
	RegisterFailHandler(Fail)
	junitPath = filepath.Join(t.TempDir(), "shadow-junit.xml")
	RunSpecs(t, "shop migration")
	// The JUnit the suite wrote validates against junit-10.xsd, as the
	// Jenkins xUnit plugin requires.
	testenv.ValidateJUnit(t, junitPath)
}

// junitPath is where the suite writes shadowtest's JUnit (CI would use a
// fixed name, such as shadow-junit.xml).
var junitPath string

// shadowtest's own JUnit layout (one suite per endpoint, figures as
// properties) next to, or instead of, Ginkgo's --junit-report.
var _ = ReportAfterSuite("shadowtest JUnit", func(r Report) {
	f, err := os.Create(junitPath)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	Expect(suite.WriteJUnit(f, r, plan, results)).To(Succeed())
})

// The spec directory is loaded when the suite is built, because its
// endpoints become Describe containers.
var (
	plan    = mustLoad("../../../specs/demo")
	results = observe.NewResults(plan.Endpoints)
)

func mustLoad(dir string) *framework.Plan {
	plan, err := spec.Load(dir, spec.Options{})
	if err != nil {
		panic(err) // a bad spec is a broken suite
	}
	return plan
}

// The team's migration suite: shadowtest's specs (one Describe per
// endpoint, one It per threshold; the replay runs once, in their
// BeforeAll, with the spec context), then, through Config.Also, the team's
// own assertions over the same results, which therefore run after the
// replay. Declare's container is Ordered with ContinueOnFailure, which
// Ginkgo allows only outermost: do not wrap it in an Ordered container.
var _ = Describe("shop migration", func() {
	suite.Declare(shadowConfig, nil)
})

var shadowConfig = suite.Config{
	Also: func() {
		It("covers every order in the traffic, with the same matchers", func() {
			orders := results.Endpoint("get-order")
			Expect(orders.Pairs).To(BeNumerically(">=", 80))
			Expect(orders).To(suite.HoldMatchRate(plan.Endpoints[indexOf("get-order")].Thresholds))
		})
	},
	Plan:    plan,
	Results: results,
	Replay: func(ctx context.Context) error {
		// The team would point at its staging systems; the example starts
		// the demo services on loopback.
		prod, err := demo.Start(demo.V1, demo.Options{})
		if err != nil {
			return err
		}
		defer prod.Close()
		shadow, err := demo.Start(demo.V2, demo.Options{})
		if err != nil {
			return err
		}
		defer shadow.Close()
		plan.Prod.URL, plan.Shadow.URL = prod.URL, shadow.URL
		return runner.Run(ctx, plan, results, runner.Options{})
	},
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
