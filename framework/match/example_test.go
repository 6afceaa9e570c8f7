package match_test

import (
	"fmt"
	"net/http"

	"github.com/onsi/gomega"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/match"
)

// In a Ginkgo suite, write Expect(shadow).To(match.MatchResponse(prod, rules)).
// Here a Gomega instance prints the failure message instead of failing.
func ExampleMatchResponse() {
	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(message) })
	rules := framework.Rules{
		Ignore:    []string{"$..requestId"},
		Unordered: []framework.Unordered{{Path: "$.orders", Key: "id"}},
	}
	json := http.Header{"Content-Type": {"application/json"}}
	prod := &framework.Response{Status: 200, Header: json,
		Body: []byte(`{"requestId":"a","email":"Ada@example.com","orders":[{"id":1,"total":5},{"id":2,"total":7}]}`)}
	shadow := &framework.Response{Status: 200, Header: json,
		Body: []byte(`{"requestId":"b","email":"ada@example.com","orders":[{"id":1,"total":5},{"id":2,"total":8}]}`)}

	g.Expect(shadow).To(match.MatchResponse(prod, rules))
	// Output:
	// responses differ under the rules (2 differences, prod = expected, shadow = actual):
	//   value $.email: prod "Ada@example.com", shadow "ada@example.com"
	//   value $.orders[*].total: prod 7, shadow 8 (at $.orders[id=2].total)
}

func ExampleMatchJSONUnder() {
	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(message) })
	rules := framework.Rules{
		Tolerance: map[string]framework.Tolerance{"$.price": {Abs: 0.01}},
		Unordered: []framework.Unordered{{Path: "$.tags"}},
	}
	ok := g.Expect(`{"price":10.004,"tags":["b","a"]}`).To(match.MatchJSONUnder(`{"price":10,"tags":["a","b"]}`, rules))
	fmt.Println(ok)
	// Output:
	// true
}
