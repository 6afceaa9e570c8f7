package runner

import (
	"context"
	"errors"
	"io"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// Count reads the plan's traffic once, without sending anything, and
// returns the number of records, for a progress line's total and ETA. It
// stops early, returning what it counted, when ctx ends; a traffic error is
// left for the run itself to report.
func Count(ctx context.Context, plan *framework.Plan) (int64, error) {
	var n int64
	for _, src := range plan.Traffic {
		reader, err := traffic.Open(src, plan.Dir)
		if err != nil {
			return n, err
		}
		for {
			if n%1024 == 0 && ctx.Err() != nil {
				reader.Close()
				return n, ctx.Err()
			}
			if _, err := reader.Next(); err != nil {
				reader.Close()
				if errors.Is(err, io.EOF) {
					break
				}
				return n, err
			}
			n++
		}
	}
	return n, nil
}
