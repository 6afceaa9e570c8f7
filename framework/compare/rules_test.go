package compare

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/shadowtest/shadowtest/framework"
)

const kOrder = framework.KindOrder

func TestCompareUnordered(t *testing.T) {
	multiset := framework.Rules{Unordered: []framework.Unordered{{Path: "$.roles"}}}
	keyed := framework.Rules{Unordered: []framework.Unordered{{Path: "$.orders", Key: "id"}}}
	runCompareCases(t, []compareCase{
		jsonCase("multiset reordered", `{"roles":["a","b","c"]}`, `{"roles":["c","a","b"]}`, multiset,
			"a multiset matches whatever the order"),
		jsonCase("multiset duplicates count", `{"roles":["a","a","b"]}`, `{"roles":["a","b","b"]}`, multiset,
			"multiplicity matters: the unpaired a and b pair up and differ once",
			d(kValue, "$.roles[1]", `"a"`, `"b"`)),
		jsonCase("multiset one changed", `{"roles":["a","b","c"]}`, `{"roles":["c","x","a"]}`, multiset,
			"a changed element is one value diff at prod's index, not a missing and an extra",
			d(kValue, "$.roles[1]", `"b"`, `"x"`)),
		jsonCase("multiset extra", `{"roles":["a"]}`, `{"roles":["b","a"]}`, multiset,
			"an element only the shadow has is extra at its own index",
			d(kExtra, "$.roles[0]", "", `"b"`)),
		jsonCase("multiset missing", `{"roles":["a","b"]}`, `{"roles":["b"]}`, multiset,
			"an element only prod has is missing at prod's index",
			d(kMissing, "$.roles[0]", `"a"`, "")),
		jsonCase("multiset of objects under rules", `{"roles":[{"n":"a","t":1},{"n":"b","t":2}]}`, `{"roles":[{"n":"b","t":9},{"n":"a","t":8}]}`,
			framework.Rules{Unordered: multiset.Unordered, Ignore: []string{"$.roles[*].t"}},
			"elements pair up when they match under the other rules"),
		jsonCase("other arrays stay ordered", `{"x":[1,2]}`, `{"x":[2,1]}`, multiset,
			"only the declared array is a multiset",
			d(kValue, "$.x[0]", "1", "2"), d(kValue, "$.x[1]", "2", "1")),
		jsonCase("keyed reordered", `{"orders":[{"id":1,"t":5},{"id":2,"t":6}]}`, `{"orders":[{"id":2,"t":6},{"id":1,"t":5}]}`, keyed,
			"a moved element is one order diff at its key (the longest run in order stays put)",
			d(kOrder, "$.orders[id=1]", "index 0", "index 1")),
		jsonCase("keyed changed", `{"orders":[{"id":1,"t":5},{"id":2,"t":6}]}`, `{"orders":[{"id":1,"t":5},{"id":2,"t":7}]}`, keyed,
			"a changed element is reported at its key, not at an index",
			d(kValue, "$.orders[id=2].t", "6", "7")),
		jsonCase("keyed string key", `{"orders":[{"id":"A-1","t":5}]}`, `{"orders":[{"id":"A-1","t":6}]}`, keyed,
			"string keys are quoted in the path",
			d(kValue, `$.orders[id="A-1"].t`, "5", "6")),
		jsonCase("keyed missing and extra", `{"orders":[{"id":1},{"id":2}]}`, `{"orders":[{"id":2},{"id":3}]}`, keyed,
			"keys only one side has are missing or extra, never paired with each other",
			d(kMissing, "$.orders[id=1]", `{"id":1}`, ""), d(kExtra, "$.orders[id=3]", "", `{"id":3}`)),
		jsonCase("keyed moved and changed", `{"orders":[{"id":1,"t":1},{"id":2,"t":2},{"id":3,"t":3}]}`,
			`{"orders":[{"id":3,"t":3},{"id":1,"t":1},{"id":2,"t":9}]}`, keyed,
			"one element moved to the front is one order diff; a change is reported at its key",
			d(kValue, "$.orders[id=2].t", "2", "9"), d(kOrder, "$.orders[id=3]", "index 2", "index 0")),
		jsonCase("ignore a keyed element", `{"orders":[{"id":1,"t":1},{"id":2,"t":2}]}`, `{"orders":[{"id":1,"t":7},{"id":2,"t":8}]}`,
			framework.Rules{Unordered: keyed.Unordered, Ignore: []string{"$.orders[id=1]"}},
			"rules can name one keyed element", d(kValue, "$.orders[id=2].t", "2", "8")),
	})
}

func TestLargeMultiset(t *testing.T) {
	var prod, shadow []string
	for i := range 300 {
		prod = append(prod, strconv.Itoa(i))
		shadow = append(shadow, strconv.Itoa(299-i))
	}
	c := mustCompile(t, framework.Rules{Unordered: []framework.Unordered{{Path: "$"}}})
	p, s := "["+strings.Join(prod, ",")+"]", "["+strings.Join(shadow, ",")+"]"
	if diffs := c.Compare(jsonResponse(p), jsonResponse(s)); len(diffs) != 0 {
		t.Errorf("a reversed 300-element multiset must match within the pairing budget:\n%s", formatDiffs(diffs))
	}
	shadow[150] = "1000"
	s = "[" + strings.Join(shadow, ",") + "]"
	want := []framework.Diff{d(kValue, "$[149]", "149", "1000")}
	if diffs := c.Compare(jsonResponse(p), jsonResponse(s)); !diffsEqual(diffs, want) {
		t.Errorf("one changed element of a large multiset is one diff at prod's index:\n%s", formatDiffs(diffs))
	}
}

func TestCompareMasksAndSkew(t *testing.T) {
	uuid := `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
	masks := framework.Rules{Masks: []framework.Mask{{Pattern: uuid}}}
	skew := func(path string, d time.Duration) framework.Rules {
		return framework.Rules{Tolerance: map[string]framework.Tolerance{path: {Skew: d}}}
	}
	runCompareCases(t, []compareCase{
		jsonCase("uuid in url", `{"href":"/orders/0b9c2a4e-1111-4222-8333-944455556666/items"}`,
			`{"href":"/orders/7f3e5d10-aaaa-4bbb-8ccc-9ddddeeeefff/items"}`, masks,
			"the masked part does not count"),
		jsonCase("rest of the string counts", `{"href":"/orders/0b9c2a4e-1111-4222-8333-944455556666/items"}`,
			`{"href":"/order/7f3e5d10-aaaa-4bbb-8ccc-9ddddeeeefff/items"}`, masks,
			"only what the pattern matches is masked",
			d(kValue, "$.href", `"/orders/0b9c2a4e-1111-4222-8333-944455556666/items"`, `"/order/7f3e5d10-aaaa-4bbb-8ccc-9ddddeeeefff/items"`)),
		jsonCase("mask limited to a path", `{"a":"x-1","b":"x-1"}`, `{"a":"x-2","b":"x-2"}`,
			framework.Rules{Masks: []framework.Mask{{Path: "$.a", Pattern: `[0-9]+`}}},
			"a mask with a path applies only there", d(kValue, "$.b", `"x-1"`, `"x-2"`)),
		jsonCase("rfc3339 within skew", `{"at":"2026-11-25T10:00:00Z"}`, `{"at":"2026-11-25T11:00:01.5+01:00"}`, skew("$.at", 2*time.Second),
			"timestamps compare as instants: zones and fractions do not matter, 1.5s is inside 2s"),
		jsonCase("rfc3339 outside skew", `{"at":"2026-11-25T10:00:00Z"}`, `{"at":"2026-11-25T10:00:03Z"}`, skew("$.at", 2*time.Second),
			"3s is outside 2s", d(kValue, "$.at", `"2026-11-25T10:00:00Z"`, `"2026-11-25T10:00:03Z"`)),
		jsonCase("epoch seconds", `{"at":1764064800}`, `{"at":1764064801}`, skew("$.at", time.Second),
			"numbers below 1e11 are epoch seconds"),
		jsonCase("epoch milliseconds", `{"at":1764064800000}`, `{"at":1764064801500}`, skew("$.at", time.Second),
			"numbers from 1e11 are milliseconds: 1.5s is outside 1s",
			d(kValue, "$.at", "1764064800000", "1764064801500")),
		jsonCase("skew is not a string match", `{"at":"soon"}`, `{"at":"later"}`, skew("$.at", time.Hour),
			"strings that are not timestamps compare exactly", d(kValue, "$.at", `"soon"`, `"later"`)),
		{name: "text body masked", rules: masks,
			prod:   response(200, "id 0b9c2a4e-1111-4222-8333-944455556666 ok", "Content-Type: text/plain"),
			shadow: response(200, "id 7f3e5d10-aaaa-4bbb-8ccc-9ddddeeeefff ok", "Content-Type: text/plain"),
			reason: "text bodies compare exactly after masks"},
	})
}

func TestCompareErrorsBy(t *testing.T) {
	rules := framework.Rules{ErrorsBy: "$.error.code"}
	errJSON := func(status int, body string) *framework.Response {
		return response(status, body, "Content-Type: application/json")
	}
	runCompareCases(t, []compareCase{
		{name: "message wording", rules: rules,
			prod:   errJSON(404, `{"error":{"code":"not_found","message":"No such user"}}`),
			shadow: errJSON(404, `{"error":{"code":"not_found","message":"user 7 not found"},"trace":"x"}`),
			reason: "for non-2xx only the error type counts, not the message or other fields"},
		{name: "error type changed", rules: rules,
			prod:   errJSON(400, `{"error":{"code":"bad_email","message":"x"}}`),
			shadow: errJSON(400, `{"error":{"code":"invalid","message":"x"}}`),
			want:   []framework.Diff{d(kValue, "$.error.code", `"bad_email"`, `"invalid"`)},
			reason: "a different error type is a value diff at its path"},
		{name: "error type missing", rules: rules,
			prod:   errJSON(400, `{"error":{"code":"bad_email"}}`),
			shadow: errJSON(400, `{"message":"bad"}`),
			want:   []framework.Diff{d(kMissing, "$.error", `{"code":"bad_email"}`, "")},
			reason: "losing the error object is reported where it is lost"},
		{name: "2xx unaffected", rules: rules,
			prod:   errJSON(200, `{"message":"a"}`),
			shadow: errJSON(200, `{"message":"b"}`),
			want:   []framework.Diff{d(kValue, "$.message", `"a"`, `"b"`)},
			reason: "errors.by applies to non-2xx pairs only"},
		{name: "text error bodies", rules: rules,
			prod:   response(503, "upstream down"),
			shadow: response(503, "service unavailable"),
			reason: "a non-JSON error body has no error type: the status is all that counts"},
		{name: "field in neither answer", rules: framework.Rules{ErrorsBy: "$.eror.code"},
			prod:   errJSON(404, `{"error":{"code":"not_found"},"user":null}`),
			shadow: errJSON(404, `{"error":{"code":"internal"},"user":{"id":7}}`),
			want: []framework.Diff{d(kValue, "$.error.code", `"not_found"`, `"internal"`),
				d(kType, "$.user", "null", `{"id":7}`)},
			reason: "a path neither answer has (a typo) leaves nothing to compare by: the pair is compared whole, not matched whatever the bodies"},
		{name: "field in neither answer, bodies alike", rules: rules,
			prod:   errJSON(502, `{"message":"Bad Gateway"}`),
			shadow: errJSON(502, `{"message":"Bad Gateway"}`),
			reason: "a gateway's error without the field still matches when the bodies do"},
	})
}

func compress(t *testing.T, coding, s string) []byte {
	var b bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "deflate":
		w = zlib.NewWriter(&b)
	case "raw-deflate":
		w, _ = flate.NewWriter(&b, flate.BestSpeed)
	case "br":
		w = brotli.NewWriter(&b)
	}
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encoded(t *testing.T, coding, body string, header ...string) *framework.Response {
	header = append(header, "Content-Encoding: "+strings.TrimPrefix(coding, "raw-"))
	r := response(200, "", header...)
	r.Body = compress(t, coding, body)
	return r
}

func TestCompareContent(t *testing.T) {
	big := strings.Repeat("x", 300)
	binary := func(body string) *framework.Response {
		return response(200, body, "Content-Type: image/png")
	}
	runCompareCases(t, []compareCase{
		{name: "gzip versus plain", prod: encoded(t, "gzip", `{"a":1}`, "Content-Type: application/json"),
			shadow: jsonResponse(`{"a":1.0}`), reason: "gzip is decoded before comparing"},
		{name: "br versus deflate", prod: encoded(t, "br", `{"a":1}`, "Content-Type: application/json"),
			shadow: encoded(t, "deflate", `{"a":2}`, "Content-Type: application/json"),
			want:   []framework.Diff{d(kValue, "$.a", "1", "2")}, reason: "br and deflate too; diffs are in the decoded bodies"},
		{name: "raw deflate", prod: encoded(t, "raw-deflate", "hello", "Content-Type: text/plain"),
			shadow: response(200, "hello", "Content-Type: text/plain"), reason: "deflate without the zlib wrapper, as some servers send it"},
		{name: "broken gzip", prod: jsonResponse(`{}`),
			shadow: &framework.Response{Status: 200, Header: http.Header{"Content-Encoding": {"gzip"}}, Body: []byte("nope")},
			want:   []framework.Diff{d(kType, "body", "{}", "cannot decode body: gzip: *")},
			reason: "a body that does not decode is a type diff with the reason"},
		{name: "form fields", prod: response(200, "a=1&b=2&c=x", "Content-Type: application/x-www-form-urlencoded"),
			shadow: response(200, "c=x&b=3&a=1&d=4", "Content-Type: application/x-www-form-urlencoded"),
			want:   []framework.Diff{d(kValue, "$.b", `"2"`, `"3"`), d(kExtra, "$.d", "", `"4"`)},
			reason: "form bodies are parsed: field order does not count, each field is a path"},
		{name: "binary large", prod: binary(big + "a"), shadow: binary(big + "b"),
			want:   []framework.Diff{d(kValue, "body", "301 bytes, sha256 *", "301 bytes, sha256 *")},
			reason: "large binary bodies show length and SHA-256, not bytes"},
		{name: "digest above the cap", rules: framework.Rules{DigestAbove: 100},
			prod: jsonResponse(`{"a":"` + big + `"}`), shadow: jsonResponse(`{"a":"` + big + `!"}`),
			want:   []framework.Diff{d(kSize, "body", "308 bytes, sha256 *", "309 bytes, sha256 *")},
			reason: "bodies above digestAbove are compared by digest with a note, not parsed"},
	})
}

func TestCompileRuleErrors(t *testing.T) {
	tests := []struct {
		rules  framework.Rules
		want   string
		reason string
	}{
		{framework.Rules{Masks: []framework.Mask{{Pattern: "("}}}, `compare: mask "(": error parsing regexp`, "a bad regular expression"},
		{framework.Rules{Unordered: []framework.Unordered{{Path: "header:Vary"}}}, "compare: unordered header:Vary: applies to body arrays", "no sets of headers"},
		{framework.Rules{ErrorsBy: "header:X-Error"}, "compare: errors.by header:X-Error: must be a body path", "errors.by is a body field"},
		{framework.Rules{Tolerance: map[string]framework.Tolerance{"$.at": {Skew: -time.Second}}}, "compare: tolerance $.at: skew must be >= 0", "negative skew"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.rules)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Compile(%+v) error %v, want prefix %q (%s)", tt.rules, err, tt.want, tt.reason)
		}
	}
}

func TestKeyedCategoryFolds(t *testing.T) {
	diff := framework.Diff{Kind: framework.KindValue, Path: `$.orders[id="A]1"].lines[2].sku`}
	if got, want := diff.Category(), "value $.orders[*].lines[*].sku"; got != want {
		t.Errorf("Category() = %q, want %q: keyed elements fold like indices", got, want)
	}
}
