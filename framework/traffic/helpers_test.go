package traffic

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// result is one call to Next, rendered for comparison: the exchange's
// origin, or the error text.
type result struct {
	exchange framework.Exchange
	err      error
}

// readAll calls Next until io.EOF or until a sticky error repeats, and
// fails the test if a reader never ends.
func readAll(t testing.TB, r Reader, limit int) []result {
	t.Helper()
	var results []result
	var last error
	for range limit {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			return results
		}
		if err != nil && err == last {
			return results // a sticky error: the stream ended
		}
		last = err
		results = append(results, result{ex, err})
	}
	t.Fatalf("reader did not end after %d calls to Next", limit)
	return nil
}

// sameExchange reports how a and b differ, ignoring Origin; times are
// compared as instants. It returns "" when they are equal.
func sameExchange(a, b framework.Exchange) string {
	if !a.Time.Equal(b.Time) {
		return fmt.Sprintf("time %v != %v", a.Time, b.Time)
	}
	if !reflect.DeepEqual(a.Request, b.Request) {
		return fmt.Sprintf("request\n  %s\n  %s", showRequest(a.Request), showRequest(b.Request))
	}
	if (a.Recorded == nil) != (b.Recorded == nil) {
		return fmt.Sprintf("recorded response %v != %v", a.Recorded, b.Recorded)
	}
	if a.Recorded != nil && !reflect.DeepEqual(*a.Recorded, *b.Recorded) {
		return fmt.Sprintf("recorded response\n  %s\n  %s", showResponse(a.Recorded), showResponse(b.Recorded))
	}
	return ""
}

func showRequest(r framework.Request) string {
	return fmt.Sprintf("%s %s host=%q %v %q", r.Method, r.URL, r.Host, r.Header, r.Body)
}

func showResponse(r *framework.Response) string {
	return fmt.Sprintf("%d %v %q", r.Status, r.Header, r.Body)
}

// exchange builds an expected exchange.
func exchange(origin, when, method, url string, header http.Header, body string, recorded *framework.Response) framework.Exchange {
	ex := framework.Exchange{Origin: origin, Request: framework.Request{Method: method, URL: url, Header: header}, Recorded: recorded}
	if body != "" {
		ex.Request.Body = []byte(body)
	}
	if when != "" {
		ex.Time, _ = time.Parse(time.RFC3339Nano, when)
	}
	return ex
}

// withHost sets the recorded Host of an expected exchange.
func withHost(ex framework.Exchange, host string) framework.Exchange {
	ex.Request.Host = host
	return ex
}

// response builds an expected recorded response.
func response(status int, header http.Header, body string) *framework.Response {
	r := &framework.Response{Status: status, Header: header}
	if body != "" {
		r.Body = []byte(body)
	}
	return r
}

// checkResults compares what a reader produced with the expected origins
// and exchanges or error texts.
func checkResults(t *testing.T, got []result, want []result) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("#%d: missing, want %s", i, describe(want[i]))
		case i >= len(want):
			t.Errorf("#%d: unexpected %s", i, describe(got[i]))
		case want[i].err != nil:
			if got[i].err == nil || errText(got[i].err) != want[i].err.Error() {
				t.Errorf("#%d: got %s\nwant error %q", i, describe(got[i]), want[i].err)
			}
		case got[i].err != nil:
			t.Errorf("#%d: got error %q, want %s", i, got[i].err, want[i].exchange.Origin)
		case got[i].exchange.Origin != want[i].exchange.Origin:
			t.Errorf("#%d: origin %q, want %q", i, got[i].exchange.Origin, want[i].exchange.Origin)
		default:
			if diff := sameExchange(got[i].exchange, want[i].exchange); diff != "" {
				t.Errorf("%s: %s", want[i].exchange.Origin, diff)
			}
		}
	}
}

func describe(r result) string {
	if r.err != nil {
		return fmt.Sprintf("error %q", r.err)
	}
	return fmt.Sprintf("exchange %s %s", r.exchange.Origin, showRequest(r.exchange.Request))
}

// ok and fails build expected results.
func ok(ex framework.Exchange) result { return result{exchange: ex} }
func fails(msg string) result         { return result{err: errors.New(msg)} }

// byteOffset is the " (byte N)" a record error puts after the record's
// number; TestRecordErrorsNameByteOffsetAndQuoteSnippets checks it, the
// other tests compare the rest of the message.
var byteOffset = regexp.MustCompile(` \(byte [0-9]+\)`)

// errText is err's message without the record's byte offset.
func errText(err error) string { return byteOffset.ReplaceAllString(err.Error(), "") }

func header(pairs ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return h
}

// harOf wraps entries (a JSON array's contents) in a minimal HAR document.
func harOf(entries ...string) string {
	return `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[` + strings.Join(entries, ",") + `]}}`
}

// withLatency sets a recorded response's latency.
func withLatency(r *framework.Response, d time.Duration) *framework.Response {
	r.Latency = d
	return r
}
