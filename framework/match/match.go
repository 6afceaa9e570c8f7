// Package match offers the comparator as Gomega matchers, for teams that
// run their own Ginkgo (or plain Go) suites: compare a candidate's response
// with a reference response under the same rules a shadowtest spec
// declares, and read the differences in the failure message.
//
// It only adapts framework/compare to Gomega; it sends no traffic, keeps no
// aggregates and imports no Ginkgo.
package match

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/template"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
)

// maxBody bounds how much of an *http.Response body a matcher reads.
const maxBody = 64 << 20

// MatchResponse succeeds when the actual response (the candidate: the
// shadow) matches expected (the reference: prod) under rules. Both may be
// a *framework.Response, a framework.Response or an *http.Response (whose
// body is read and closed). The failure message lists every difference
// with its kind, path and both values.
func MatchResponse(expected any, rules framework.Rules) types.GomegaMatcher {
	return responseMatcher(expected, rules, false)
}

// MatchJSONUnder succeeds when the actual JSON document (a string or
// []byte) matches expected under rules, as the bodies of two 200 responses
// with a JSON content type. Unlike Gomega's MatchJSON, it honours ignore
// paths, tolerances, unordered arrays, masks and skew.
func MatchJSONUnder(expected any, rules framework.Rules) types.GomegaMatcher {
	return responseMatcher(jsonResponse(expected), rules, true)
}

// result holds what the last Match found, for the failure message.
type result struct{ diffs []framework.Diff }

// Message lists the differences.
func (r *result) Message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "responses differ under the rules (%d difference%s, prod = expected, shadow = actual):", len(r.diffs), plural(len(r.diffs)))
	for _, d := range r.diffs {
		fmt.Fprintf(&b, "\n  %s: prod %s, shadow %s", d.Category(), show(d.Prod), show(d.Shadow))
		if d.Path != framework.FoldIndices(d.Path) {
			fmt.Fprintf(&b, " (at %s)", d.Path)
		}
	}
	return b.String()
}

var messageTemplate = template.Must(gcustom.ParseTemplate(
	`{{if .Failure}}{{.Data.Message}}{{else}}expected the responses to differ under the rules, but they match{{end}}`))

func responseMatcher(expected any, rules framework.Rules, json bool) types.GomegaMatcher {
	last := &result{}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		c, err := compare.Compile(rules)
		if err != nil {
			return false, err
		}
		prod, err := toResponse(expected)
		if err != nil {
			return false, fmt.Errorf("expected: %w", err)
		}
		expected = prod // an *http.Response body can be read only once
		if json {
			actual = jsonResponse(actual)
		}
		shadow, err := toResponse(actual)
		if err != nil {
			return false, fmt.Errorf("actual: %w", err)
		}
		last.diffs = c.Compare(prod, shadow)
		return len(last.diffs) == 0, nil
	}).WithPrecompiledTemplate(messageTemplate, last)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// jsonDoc wraps a JSON document given as a string or []byte.
type jsonDoc struct{ v any }

func jsonResponse(v any) any { return jsonDoc{v} }

func toResponse(v any) (*framework.Response, error) {
	switch v := v.(type) {
	case *framework.Response:
		if v == nil {
			return nil, fmt.Errorf("nil *framework.Response")
		}
		return v, nil
	case framework.Response:
		return &v, nil
	case *http.Response:
		if v == nil {
			return nil, fmt.Errorf("nil *http.Response")
		}
		defer v.Body.Close()
		body, err := io.ReadAll(io.LimitReader(v.Body, maxBody+1))
		if err != nil {
			return nil, fmt.Errorf("reading the body: %w", err)
		}
		return &framework.Response{Status: v.StatusCode, Header: v.Header, Body: body[:min(len(body), maxBody)], Truncated: len(body) > maxBody}, nil
	case jsonDoc:
		var body []byte
		switch doc := v.v.(type) {
		case string:
			body = []byte(doc)
		case []byte:
			body = doc
		default:
			return nil, fmt.Errorf("want a JSON document as string or []byte, got %T", v.v)
		}
		return &framework.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}, nil
	case nil:
		return nil, fmt.Errorf("no response")
	}
	return nil, fmt.Errorf("want *framework.Response, framework.Response or *http.Response, got %T", v)
}
