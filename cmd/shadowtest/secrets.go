package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/envref"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// scrubberOf returns the scrubber behind a command's stdout: dispatch
// wraps stdout and stderr in writers of one scrubber, and every output
// file of the command goes through it too. Callers that did not wrap (a
// test calling a command directly) get a fresh one.
func scrubberOf(stdout io.Writer) *scrub.Scrubber {
	if w, ok := stdout.(*scrub.Writer); ok && w.Scrubber() != nil {
		return w.Scrubber()
	}
	return scrub.New()
}

// newRedactor builds the run's redactor over the plan's report settings;
// everything it masks is registered with sc.
func newRedactor(plan *framework.Plan, sc *scrub.Scrubber) (*redact.Redactor, error) {
	return redact.Build(redact.Options{
		Paths:    plan.Report.Redact,
		Names:    plan.Report.Secrets.Names,
		Allow:    plan.Report.Secrets.Allow,
		Scrubber: sc,
	})
}

// learnPlan registers the secrets a plan carries: the environment values
// its target headers expand (${SHADOW_TOKEN}) and those headers' values
// when they are sensitive, Basic credentials decoded (a ${NAME:-default}
// that reads its default is the spec's text, learned as a literal value
// is: only under a sensitive header or shaped like a credential, or
// X-Accept: ${SHADOW_ACCEPT:-application/json} masked every
// application/json of the outputs); the credentials and
// query values of the target URLs; the values endpoints select by under
// secret header or query names.
func learnPlan(plan *framework.Plan, red *redact.Redactor, sc *scrub.Scrubber) {
	for _, t := range []*framework.Target{&plan.Prod, &plan.Shadow} {
		for name, value := range t.Headers {
			read := false
			expanded := envref.ExpandFunc(value, func(v string) { read = true; sc.AddSent(v) })
			if read {
				sc.AddSent(expanded)
			}
			red.Header(http.Header{name: {expanded}}) // registers sensitive values
		}
		learnURL(t.URL, sc)
	}
	// An endpoint selecting by a secret (match.headers "X-Api-Key", a
	// token query parameter) names it in the results' copy of the spec:
	// registered even when no request carried it.
	for _, e := range plan.Endpoints {
		for _, p := range e.Header {
			if red.IsSensitiveHeader(p.Name) {
				for _, v := range p.Values {
					red.Header(http.Header{p.Name: {v}})
				}
			}
		}
		for _, p := range e.Query {
			if red.Names().Secret(p.Name) {
				sc.AddSent(p.Values...)
			}
		}
	}
}

// learnURL registers a URL's password, user:password and query values.
func learnURL(raw string, sc *scrub.Scrubber) {
	u, err := url.Parse(raw)
	if err != nil {
		sc.AddSent(raw)
		return
	}
	if u.User != nil {
		sc.AddSent(u.User.String())
		if p, ok := u.User.Password(); ok {
			sc.AddSent(p, u.User.Username()+":"+p)
		}
	}
	for _, values := range u.Query() {
		sc.AddSent(values...)
	}
}

// warnScrubberFull says, once the outputs are written, that the scrubber
// stopped registering secret values (scrub.MaxValues held, or
// scrub.MaxValues - scrub.SentRoom learned from answers): those seen
// later were masked by name where they stood, but an echo of one
// elsewhere may show in the outputs. A flood of fresh session cookies, or
// a shadow inventing secret fields, fills the answers' part; silent, it
// left the outputs unprotected without a word. The room kept for what
// requests carry means a user's token is still learned then. It also
// says, once for the run, that requests carried more secret values than
// one request may teach (scrub.RequestValues: a bulk upload of a table
// with a password column), with counts only.
func warnScrubberFull(stderr io.Writer, sc *scrub.Scrubber) {
	if n := sc.Capped(); n > 0 {
		fmt.Fprintf(stderr, "shadowtest: warning: %d request(s) carried more than %d secret values (a bulk upload?): the values past the first %d of each were masked by name only where they stood, not learned, so an echo of one elsewhere may show in the outputs; check them before you publish them (the cap keeps the scrubber's room for later requests' tokens)\n", n, scrub.RequestValues, scrub.RequestValues)
	}
	if n := sc.Dropped(); n > 0 {
		fmt.Fprintf(stderr, "shadowtest: warning: %d secret value(s) came after the scrubber was full (%d values learned from answers, %d in all): they were masked by name only, and an echo of one elsewhere may show in the outputs; check them before you publish them (fresh session cookies in every answer, secret fields a shadow invents, or a bulk body an example shows fill it)\n", n, scrub.MaxValues-scrub.SentRoom, scrub.MaxValues)
	}
}
