package runner

import (
	"context"
	"errors"
	"io"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/selector"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// feed streams every traffic source into jobs, in order, and returns how
// many requests were sent.
func feed(ctx context.Context, plan *framework.Plan, sel *selector.Selector, results *observe.Results, jobs chan<- job) (int64, error) {
	var sent int64
	for _, src := range plan.Traffic {
		reader, err := traffic.Open(src, plan.Dir)
		if err != nil {
			return sent, &InputError{Err: err}
		}
		for {
			ex, err := reader.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				reader.Close()
				return sent, &InputError{Err: err}
			}
			i := sel.Match(&ex.Request)
			if i < 0 {
				results.AddUnmatched(ex.Request.Method + " " + selector.Template(ex.Request.URL))
				continue
			}
			if unsafeMethod(ex.Request.Method) && plan.Mirror.Writes != "isolated" {
				results.AddSkipped(plan.Endpoints[i].Name)
				continue
			}
			select {
			case jobs <- job{endpoint: i, exchange: ex}:
				sent++
			case <-ctx.Done():
				reader.Close()
				return sent, nil
			}
		}
		if err := reader.Close(); err != nil {
			return sent, &InputError{Err: err}
		}
	}
	return sent, nil
}

// unsafeMethod reports whether a method writes: such requests are sent only
// when the write policy allows it.
func unsafeMethod(method string) bool {
	switch method {
	case "POST", "PUT", "PATCH", "DELETE":
		return true
	}
	return false
}
