package mirror

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/envref"
)

// rewritePath applies the target's path prefix rewrite to an origin-form
// URL: with From set, a path starting with From (as a whole segment) gets
// To instead; without From, To is put in front of every path.
func (c *Client) rewritePath(originForm string) string {
	rw := c.target.PathPrefix
	if rw.From == "" && rw.To == "" {
		return originForm
	}
	if rw.From == "" {
		return strings.TrimSuffix(rw.To, "/") + originForm
	}
	from := strings.TrimSuffix(rw.From, "/")
	rest, ok := strings.CutPrefix(originForm, from)
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?') {
		return originForm // not the prefix, or only part of a segment ("/api/v10")
	}
	to := strings.TrimSuffix(rw.To, "/")
	if to == "" && (rest == "" || rest[0] == '?') {
		to = "/"
	}
	return to + rest
}

// removeHeaders drops the recorded headers the target must not receive.
func (c *Client) removeHeaders(h http.Header) {
	for _, name := range c.target.RemoveHeaders {
		h.Del(name)
	}
}

// host returns the Host a request is sent with: the recorded one (or a
// Host header of a hand-built or synthetic request), unless the target
// removes it, in which case the Go client sends the URL's host. A Host in
// the target's headers is applied after this and wins.
func (c *Client) host(req *framework.Request) string {
	for _, name := range c.target.RemoveHeaders {
		if strings.EqualFold(name, "Host") {
			return ""
		}
	}
	if req.Host != "" {
		return req.Host
	}
	return req.Header.Get("Host")
}

// SendExchange mirrors one recorded exchange. When prod answers from the
// recording (Target.Recorded), prod's response is the recorded one, with
// no latency and nothing sent, and only the shadow is called; the caller
// must not pass an exchange without a recorded response then. Otherwise it
// is Send.
func (m *Mirror) SendExchange(ctx context.Context, ex *framework.Exchange) (prod, shadow framework.Response) {
	return m.sendExchange(ctx, ex, m.Send, m.Shadow.Do)
}

// sendExchange is SendExchange with send as the way to ask both targets,
// and shadowDo the way to ask the shadow alone.
func (m *Mirror) sendExchange(ctx context.Context, ex *framework.Exchange, send func(context.Context, *framework.Request) (framework.Response, framework.Response), shadowDo func(context.Context, *framework.Request) framework.Response) (prod, shadow framework.Response) {
	if ex.Request.RPC != nil {
		return m.sendRPC(ctx, ex, m.Prod.target.Recorded)
	}
	if !m.Prod.target.Recorded {
		return send(ctx, &ex.Request)
	}
	shadow = shadowDo(ctx, &ex.Request)
	if ex.Recorded == nil {
		return framework.Response{Err: errNoRecording, ErrKind: "no-recording"}, shadow
	}
	return *ex.Recorded, shadow
}

var errNoRecording = errNoRecordingType{}

type errNoRecordingType struct{}

func (errNoRecordingType) Error() string { return "the recording has no response for this request" }

// Rewrite points a request that a proxy forwards (out, a copy of the
// client's request) at the target, with the target's rewrites applied as
// Do applies them: the path prefix, the removed headers, the Host (the
// client's, unless the target removes it) and the target's own headers.
func (c *Client) Rewrite(out *http.Request) error {
	if u := out.URL; c.base != nil && u.Opaque == "" && u.Fragment == "" && strings.HasPrefix(u.Path, "/") {
		// The URL joinURL and url.Parse would build, without printing
		// and parsing it for every request.
		target := *c.base
		target.Path, target.RawPath, target.RawQuery, target.ForceQuery = u.Path, u.RawPath, u.RawQuery, u.ForceQuery
		out.URL = &target
	} else {
		target, err := url.Parse(joinURL(c.target.URL, c.rewritePath(out.URL.RequestURI())))
		if err != nil {
			return err
		}
		out.URL = target
	}
	c.removeHeaders(out.Header)
	out.Host = c.host(&framework.Request{Host: out.Host})
	for name, value := range c.target.Headers {
		expanded := envref.Expand(value)
		if strings.EqualFold(name, "Host") {
			out.Host = expanded
			continue
		}
		out.Header.Set(name, expanded)
	}
	return nil
}

// plainBase is the target's URL when it is only a scheme and a host (a
// trailing "/" at most) and the target rewrites no path prefix: a
// forwarded request then keeps its own path and query as they are; nil
// otherwise.
func plainBase(target framework.Target) *url.URL {
	u, err := url.Parse(target.URL)
	if err != nil || target.PathPrefix.From != "" || target.PathPrefix.To != "" || u.Opaque != "" || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawPath != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil
	}
	u.Path = ""
	return u
}
