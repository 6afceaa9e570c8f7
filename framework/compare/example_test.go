package compare_test

import (
	"fmt"
	"net/http"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
)

func Example() {
	c, err := compare.Compile(framework.Rules{
		Ignore:    []string{"$..requestId", "header:Date"},
		Headers:   []string{"Content-Type", "Date"},
		Tolerance: map[string]framework.Tolerance{"$.items[*].price": {Abs: 0.01}},
	})
	if err != nil {
		panic(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	prod := &framework.Response{Status: 200, Header: jsonHeader,
		Body: []byte(`{"requestId":"a1","items":[{"price":9.99,"sku":"x"},{"price":5,"sku":"y"}]}`)}
	shadow := &framework.Response{Status: 200, Header: jsonHeader,
		Body: []byte(`{"items":[{"sku":"x","price":10.00},{"sku":"Y","price":5.0}],"requestId":"b2"}`)}

	for _, d := range c.Compare(prod, shadow) {
		fmt.Printf("%s  %s -> %s  (category %q)\n", d.Path, d.Prod, d.Shadow, d.Category())
	}
	// Output:
	// $.items[1].sku  "y" -> "Y"  (category "value $.items[*].sku")
}
