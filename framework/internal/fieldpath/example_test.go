package fieldpath_test

import (
	"fmt"

	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

func Example() {
	ignore := fieldpath.NewSet(
		fieldpath.MustParse("$.items[*].updatedAt"),
		fieldpath.MustParse("$..requestId"),
	)
	loc := []fieldpath.Step{fieldpath.Key("items"), fieldpath.Index(3), fieldpath.Key("updatedAt")}
	fmt.Println(fieldpath.Format(loc), ignore.Match(loc))

	loc = []fieldpath.Step{fieldpath.Key("meta"), fieldpath.Key("requestId")}
	fmt.Println(fieldpath.Format(loc), ignore.Match(loc))

	loc = []fieldpath.Step{fieldpath.Key("unit price")}
	fmt.Println(fieldpath.Format(loc), ignore.Match(loc))
	// Output:
	// $.items[3].updatedAt true
	// $.meta.requestId true
	// $."unit price" false
}

func ExampleParse() {
	p, err := fieldpath.Parse("header:content-type")
	fmt.Println(p, p.IsHeader(), p.Header(), err)

	_, err = fieldpath.Parse("$.a[x]")
	fmt.Println(err)
	// Output:
	// header:Content-Type true Content-Type <nil>
	// fieldpath: $.a[x]: expected index or * at offset 4
}
