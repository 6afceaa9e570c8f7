package mirror

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func TestRewritePath(t *testing.T) {
	tests := []struct {
		rw       framework.PathRewrite
		in, want string
		reason   string
	}{
		{framework.PathRewrite{}, "/users/7?x=1", "/users/7?x=1", "no rewrite"},
		{framework.PathRewrite{From: "/api/v1", To: "/v2"}, "/api/v1/users/7?x=1", "/v2/users/7?x=1", "the prefix is replaced"},
		{framework.PathRewrite{From: "/api/v1", To: "/v2"}, "/api/v10/users", "/api/v10/users", "only whole segments"},
		{framework.PathRewrite{From: "/api/v1", To: "/v2"}, "/health", "/health", "paths without the prefix are sent as recorded"},
		{framework.PathRewrite{From: "/api/v1/", To: "/"}, "/api/v1/users", "/users", "trailing slashes do not matter"},
		{framework.PathRewrite{From: "/api", To: ""}, "/api?x=1", "/?x=1", "the prefix alone becomes the root"},
		{framework.PathRewrite{To: "/v2/"}, "/users", "/v2/users", "without from, to is put in front"},
	}
	for _, tt := range tests {
		c := &Client{target: framework.Target{PathPrefix: tt.rw}}
		if got := c.rewritePath(tt.in); got != tt.want {
			t.Errorf("%+v %s: got %s, want %s (%s)", tt.rw, tt.in, got, tt.want, tt.reason)
		}
	}
}

func TestTargetRewritesOnTheWire(t *testing.T) {
	t.Setenv("SHADOWTEST_REWRITE_KEY", "k-123")
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Clone(context.Background()) }))
	defer srv.Close()
	tg := framework.Target{Name: "shadow", URL: srv.URL, Timeout: 2 * time.Second,
		Headers:       map[string]string{"X-Api-Key": "${SHADOWTEST_REWRITE_KEY}", "Host": "candidate.internal"},
		RemoveHeaders: []string{"cookie", "X-Debug"},
		PathPrefix:    framework.PathRewrite{From: "/api/v1", To: "/v2"}}
	resp := NewClient(tg, "", 1, 0).Do(context.Background(), &framework.Request{Method: "GET", URL: "/api/v1/users/7?x=1",
		Header: http.Header{"Cookie": {"session=secret"}, "X-Debug": {"1"}, "Accept": {"application/json"}}})
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	if got.URL.RequestURI() != "/v2/users/7?x=1" || got.Host != "candidate.internal" {
		t.Errorf("sent %s to host %s", got.URL.RequestURI(), got.Host)
	}
	if got.Header.Get("Cookie") != "" || got.Header.Get("X-Debug") != "" || got.Header.Get("Accept") != "application/json" {
		t.Errorf("headers %v: Cookie and X-Debug must be removed, Accept kept", got.Header)
	}
	if got.Header.Get("X-Api-Key") != "k-123" {
		t.Errorf("X-Api-Key %q: the environment is expanded at send time", got.Header.Get("X-Api-Key"))
	}
}

func TestRecordedProd(t *testing.T) {
	var calls int
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Write([]byte("shadow"))
	}))
	defer shadow.Close()
	m := New(&framework.Plan{
		Prod:   framework.Target{Name: "prod", URL: "http://127.0.0.1:1", Recorded: true, Timeout: time.Second},
		Shadow: framework.Target{Name: "shadow", URL: shadow.URL, Timeout: time.Second},
		Mirror: framework.Mirror{Concurrency: 1},
	})
	ex := framework.Exchange{Request: framework.Request{Method: "GET", URL: "/"},
		Recorded: &framework.Response{Status: 200, Body: []byte("recorded")}}
	prod, sh := m.SendExchange(context.Background(), &ex)
	if prod.Err != nil || string(prod.Body) != "recorded" || string(sh.Body) != "shadow" || calls != 1 {
		t.Errorf("prod %q %v, shadow %q, %d shadow calls: prod must answer from the recording", prod.Body, prod.Err, sh.Body, calls)
	}
	ex.Recorded = nil
	prod, _ = m.SendExchange(context.Background(), &ex)
	if prod.Err == nil || !strings.Contains(prod.Err.Error(), "no response") {
		t.Errorf("no recording: got %v", prod.Err)
	}
}

// TestRewriteWithoutParsing: for a target that is only a scheme and a host,
// Rewrite builds the forwarded URL from the request's own path and query
// (no printing and parsing per request) and gets exactly the URL that
// printing and parsing gives; targets with a path, a query or a path
// prefix rewrite keep the parsing path.
func TestRewriteWithoutParsing(t *testing.T) {
	uris := []string{"/items/7", "/", "/items/7?x=1&y=%2F", "/a%2Fb/c?q", "/caf%C3%A9/%20x", "//double/slash", "/items?", "/p;param?a=b", "/%7Euser", "/a+b?c+d"}
	bases := []string{"http://127.0.0.1:8081", "http://127.0.0.1:8081/", "https://user:pw@shop.example", "http://shop.example/base", "http://shop.example/?k=v"}
	for _, base := range bases {
		for _, rw := range []framework.PathRewrite{{}, {From: "/items", To: "/v2/items"}} {
			c := NewClient(framework.Target{URL: base, PathPrefix: rw}, "", 1, 0)
			plain := rw == (framework.PathRewrite{}) && !strings.Contains(base, "/base") && !strings.Contains(base, "?")
			if (c.base != nil) != plain {
				t.Errorf("%s with %+v: parsed once %v, want %v", base, rw, c.base != nil, plain)
			}
			for _, uri := range uris {
				in, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + uri + " HTTP/1.1\r\nHost: front.example\r\n\r\n")))
				if err != nil {
					t.Fatal(err)
				}
				want, err := url.Parse(joinURL(base, c.rewritePath(in.URL.RequestURI())))
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Rewrite(in); err != nil {
					t.Fatal(err)
				}
				got, wanted := *in.URL, *want
				got.User, wanted.User = nil, nil // the same user info, not the same pointer
				if got != wanted || in.URL.String() != want.String() {
					t.Errorf("%s, %+v, %s: %#v (%s), want %#v (%s)", base, rw, uri, *in.URL, in.URL, *want, want)
				}
			}
		}
	}
}
