package redact

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// BenchmarkLearn is the per-pair cost of learning secrets as a run does
// (cmd/shadowtest's seen and observe hooks): the recorded request before
// it is sent, then prod's and the shadow's response headers, for a pair
// like the demo shop's that carries no secret at all.
func BenchmarkLearn(b *testing.B) {
	r, err := Build(Options{Scrubber: scrub.New()})
	if err != nil {
		b.Fatal(err)
	}
	req := &framework.Request{Method: "GET", URL: "/orders/42?expand=items&page=2",
		Header: http.Header{"Accept": {"application/json"}, "User-Agent": {"shop-client/1.4"}}}
	resp := func(id string) *framework.Response {
		return &framework.Response{Status: 200, Header: http.Header{
			"Content-Type": {"application/json"}, "Content-Length": {"412"},
			"Date": {"Mon, 30 Nov 2026 03:20:00 GMT"}, "X-Request-Id": {id}}}
	}
	prod, shadow := resp("5f0c2a9e-prod"), resp("77d1b3c4-shadow")
	b.ReportAllocs()
	for b.Loop() {
		r.Learn(req, nil)
		r.Learn(nil, prod, shadow)
	}
}

// BenchmarkBodyOf is the cost of masking one body by name, as the
// discrepancy log does for every example it keeps: a JSON answer with a
// list of name/value pairs, a SOAP envelope, an HTML page with scripts.
// None of them holds a secret, the common case: what is measured is the
// scan, not the masking.
func BenchmarkBodyOf(b *testing.B) {
	var jsonBody, xmlBody, htmlBody strings.Builder
	jsonBody.WriteString(`{"order":{"id":42,"items":[`)
	for i := range 20 {
		if i > 0 {
			jsonBody.WriteString(",")
		}
		fmt.Fprintf(&jsonBody, `{"sku":"A-%d","qty":%d,"price":12.5,"tags":["red","large"],"attrs":[{"name":"color","value":"red"},{"param":"size","value":"L"}]}`, i, i)
	}
	jsonBody.WriteString(`]}}`)
	xmlBody.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><OrderResult status="ok">`)
	for i := range 20 {
		fmt.Fprintf(&xmlBody, `<Item sku="A-%d"><Qty>%d</Qty><Param name="color">red</Param><entry><name>size</name><value>L</value></entry></Item>`, i, i)
	}
	xmlBody.WriteString(`</OrderResult></soap:Body></soap:Envelope>`)
	htmlBody.WriteString(`<!doctype html><html><head><title>Shop</title><script>window.shop = {"currency":"EUR","locale":"en"}; var page = 'orders';</script>`)
	htmlBody.WriteString(`<script type="application/json" id="state">{"user":{"name":"Ada"},"cart":[1,2,3]}</script></head><body>`)
	for i := range 20 {
		fmt.Fprintf(&htmlBody, `<div class="item" data-sku="A-%d"><a href="/items/%d?ref=list">Item %d</a> <span>12.50 &euro;</span></div>`, i, i, i)
	}
	htmlBody.WriteString(`</body></html>`)
	for _, tc := range []struct{ name, contentType, body string }{
		{"json", "application/json", jsonBody.String()},
		{"xml", "text/xml", xmlBody.String()},
		{"html", "text/html; charset=utf-8", htmlBody.String()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r, err := Build(Options{Scrubber: scrub.New()})
			if err != nil {
				b.Fatal(err)
			}
			header := http.Header{"Content-Type": {tc.contentType}}
			body := []byte(tc.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.BodyOf(header, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
