package live

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// rawH2Request sends one request over h2c with prior knowledge, writing
// its header block by hand so that it may hold what net/http's client
// refuses to send (a method or path that is not valid UTF-8), and returns
// the answer's :status, or "reset" when the stream was reset.
func rawH2Request(t *testing.T, addr string, fields ...hpack.HeaderField) string {
	t.Helper()
	status, _ := rawH2Call(t, addr, fields...)
	return status
}

// rawH2Call is rawH2Request that also returns the call's grpc-status,
// from the headers of a trailers-only answer or from the trailers.
func rawH2Call(t *testing.T, addr string, fields ...hpack.HeaderField) (status, grpcStatus string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, bufio.NewReader(conn))
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range fields {
		enc.WriteField(f)
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: false, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteData(1, true, []byte{0, 0, 0, 0, 0}); err != nil { // one empty gRPC frame
		t.Fatal(err)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID != 1 {
				continue
			}
			if v := f.PseudoValue("status"); v != "" {
				status = v
			}
			for _, field := range f.RegularFields() {
				if field.Name == "grpc-status" {
					grpcStatus = field.Value
				}
			}
			if f.StreamEnded() || grpcStatus != "" {
				return status, grpcStatus
			}
		case *http2.DataFrame:
			if f.StreamID == 1 && f.StreamEnded() {
				return status, grpcStatus
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == 1 {
				return "reset: " + f.ErrCode.String(), ""
			}
		case *http2.GoAwayFrame:
			return "goaway: " + f.ErrCode.String(), ""
		}
	}
}

// TestHostileRequestLabelsNeverBreakTheProdPath: a client may send a
// method or a path that is not valid UTF-8 (HTTP/2 carries any byte above
// 0x7f in :method, and a gRPC path may percent-encode one) or is as long
// as the header limit allows. The request still gets prod's answer (the
// Prometheus client panics on a label value that is not UTF-8: the
// stream was reset), and the unmatched route's label is valid and short
// in the metrics (100 routes of 500 KB each would be 50 MB on every
// scrape and in every rewrite of --results).
func TestHostileRequestLabelsNeverBreakTheProdPath(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	s, front := grpcSession(t, grpcPlan(prod.addr, prod.addr), Options{})
	addr := strings.TrimPrefix(front.URL, "http://")
	call := func(method, path, contentType string) []hpack.HeaderField {
		return []hpack.HeaderField{{Name: ":method", Value: method}, {Name: ":scheme", Value: "http"}, {Name: ":authority", Value: addr}, {Name: ":path", Value: path},
			{Name: "content-type", Value: contentType}, {Name: "te", Value: "trailers"}}
	}
	want := rawH2Request(t, prod.addr, call("POST", "/%FF.Svc/M", "application/grpc")...)
	if got := rawH2Request(t, addr, call("POST", "/%FF.Svc/M", "application/grpc")...); got != want {
		t.Errorf("a gRPC method that is not UTF-8: the client got %q through the proxy, %q from prod", got, want)
	}
	if got := rawH2Request(t, addr, call("G\xffT", "/items/1", "text/plain")...); strings.HasPrefix(got, "reset") || strings.HasPrefix(got, "goaway") {
		t.Errorf("an HTTP/2 method that is not UTF-8: the client got %q, want an HTTP answer", got)
	}
	long := "/" + strings.Repeat("a", 500<<10)
	res, err := http.Get(front.URL + long)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close() // prod speaks only gRPC: its answer does not matter here
	if got := rawH2Request(t, addr, call("POST", long, "application/grpc")...); strings.HasPrefix(got, "reset") || strings.HasPrefix(got, "goaway") {
		t.Errorf("a 500 KB gRPC method: the client got %q", got)
	}
	for _, family := range scrape(t, s) {
		for _, m := range family.Metric {
			for _, l := range m.Label {
				if v := l.GetValue(); !utf8.ValidString(v) || len(v) > 300 {
					t.Errorf("%s{%s=%.60q…}: %d bytes, valid UTF-8 %v", family.GetName(), l.GetName(), v, len(v), utf8.ValidString(v))
				}
			}
		}
	}
	s.results.Snapshot(func(r *observe.Results) {
		for label := range r.Unmatched {
			if !utf8.ValidString(label) || len(label) > 300 {
				t.Errorf("results: unmatched route %.60q…: %d bytes, valid UTF-8 %v", label, len(label), utf8.ValidString(label))
			}
		}
	})
}

// TestGRPCTimeoutBeyondDurationIsNoDeadline: grpc-timeout allows 8 digits
// of hours (11,000 years), more than a time.Duration holds; the product
// overflowed to a negative timeout and the proxy answered
// DEADLINE_EXCEEDED at once to a call prod serves (grpc-go's server
// clamps it to the longest duration).
func TestGRPCTimeoutBeyondDurationIsNoDeadline(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	_, front := grpcSession(t, grpcPlan(prod.addr, prod.addr), Options{})
	addr := strings.TrimPrefix(front.URL, "http://")
	call := func(authority string) []hpack.HeaderField {
		return []hpack.HeaderField{{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"}, {Name: ":authority", Value: authority},
			{Name: ":path", Value: "/shadowtest.live.v1.Items/Get"}, {Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
			{Name: "grpc-timeout", Value: "99999999H"}}
	}
	_, want := rawH2Call(t, prod.addr, call(prod.addr)...)
	if _, got := rawH2Call(t, addr, call(addr)...); got != want {
		t.Errorf("grpc-timeout 99999999H: grpc-status %q through the proxy, %q from prod", got, want)
	}
}
