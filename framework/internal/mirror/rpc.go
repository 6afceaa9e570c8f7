package mirror

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/selector"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RPC holds the gRPC clients of a plan's targets and the descriptors
// they use.
type RPC struct {
	Descriptors  *rpc.Descriptors
	Prod, Shadow *rpc.Client
	// Probe asks prod a second time for noise learning, on a connection
	// of its own (see Mirror.Probe).
	Probe *rpc.Client
}

// NewRPC loads the plan's descriptors (files, or server reflection on
// prod) and builds one gRPC client per target. It returns nil for a plan
// without a grpc block.
func NewRPC(ctx context.Context, plan *framework.Plan) (*RPC, error) {
	if plan.GRPC == nil {
		return nil, nil
	}
	desc, err := rpc.Load(ctx, plan)
	if err != nil {
		return nil, fmt.Errorf("grpc descriptors (%s): %w", plan.GRPC.Pos, err)
	}
	r := &RPC{Descriptors: desc}
	if r.Prod, err = rpc.NewClient(plan.Prod, plan.Dir, desc, plan.Mirror.MaxBodyBytes); err != nil {
		return nil, err
	}
	if r.Shadow, err = rpc.NewClient(plan.Shadow, plan.Dir, desc, plan.Mirror.MaxBodyBytes); err != nil {
		r.Prod.Close()
		return nil, err
	}
	if r.Probe, err = rpc.NewClient(plan.Prod, plan.Dir, desc, plan.Mirror.MaxBodyBytes); err != nil {
		r.Prod.Close()
		r.Shadow.Close()
		return nil, err
	}
	r.Shadow.Shadow()
	if plan.GRPC.Reflection {
		rctx := ctx
		if plan.Prod.Timeout > 0 {
			var cancel context.CancelFunc
			rctx, cancel = context.WithTimeout(ctx, 2*plan.Prod.Timeout)
			defer cancel()
		}
		desc, err := rpc.FromReflection(rctx, r.Prod.Conn())
		if err != nil {
			r.Close()
			err = fmt.Errorf("grpc reflection on prod (%s): %w", plan.GRPC.Pos, err)
			switch status.Code(err) {
			case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
				// Prod did not answer (or the run was stopped): not a
				// mistake in the spec.
				return nil, &UnreachableError{Err: err}
			}
			return nil, err
		}
		r.Descriptors = desc
		r.Prod.SetDescriptors(desc)
		r.Shadow.SetDescriptors(desc)
		r.Probe.SetDescriptors(desc)
		// vet could not check the selectors against services it had not
		// seen: a selector naming no method would silently cover nothing.
		methods := desc.Methods()
		for _, e := range plan.Endpoints {
			if e.GRPC != "" && !slices.ContainsFunc(methods, func(m string) bool { return selector.MatchMethod(e.GRPC, m) }) {
				r.Close()
				return nil, fmt.Errorf("%s: endpoint %q: grpc %s names no method prod's server reflection lists (%d methods, for example %s)",
					e.Pos, e.Name, e.GRPC, len(methods), strings.Join(methods[:min(3, len(methods))], ", "))
			}
		}
		for _, src := range plan.Traffic {
			if src.Synthetic == nil {
				continue
			}
			for _, req := range src.Synthetic.Requests {
				if _, err := desc.Method(req.RPC); req.RPC != "" && err != nil {
					r.Close()
					return nil, fmt.Errorf("%s: synthetic rpc %s: %v (prod's server reflection lists %d methods)", src.Pos, req.RPC, err, len(methods))
				}
			}
		}
	}
	return r, nil
}

// UnreachableError is NewRPC's error when prod could not be asked for its
// descriptors (server reflection): the run cannot start, but the spec is
// not at fault, so it ends as aborted rather than as invalid input.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return e.Err.Error() }

func (e *UnreachableError) Unwrap() error { return e.Err }

// Close closes both connections.
func (r *RPC) Close() error {
	return errors.Join(r.Prod.Close(), r.Shadow.Close(), r.Probe.Close())
}

// ProbeDo sends a request to prod again for noise learning, through the
// probe's own client (gRPC for an RPC).
func (m *Mirror) ProbeDo(ctx context.Context, req *framework.Request) framework.Response {
	if req.RPC != nil {
		if m.rpc == nil {
			return framework.Response{Err: errNoGRPC, ErrKind: "request"}
		}
		return m.rpc.Probe.Do(ctx, req)
	}
	return m.Probe.Do(ctx, req)
}

// UseRPC makes the mirror send RPC exchanges with r's clients.
func (m *Mirror) UseRPC(r *RPC) { m.rpc = r }

// errNoGRPC answers an RPC exchange in a plan without a grpc block.
var errNoGRPC = errors.New("an RPC record, but the spec has no grpc block: add grpc: {protos: [...]}")

// sendRPC sends an RPC to both targets (or only to the shadow when prod
// answers from the recording), concurrently.
func (m *Mirror) sendRPC(ctx context.Context, ex *framework.Exchange, recordedProd bool) (prod, shadow framework.Response) {
	if m.rpc == nil {
		fail := framework.Response{Err: errNoGRPC, ErrKind: "request"}
		return fail, fail
	}
	if recordedProd {
		shadow = m.rpc.Shadow.Do(ctx, &ex.Request)
		if ex.Recorded == nil {
			return framework.Response{Err: errNoRecording, ErrKind: "no-recording"}, shadow
		}
		return *ex.Recorded, shadow
	}
	var wg sync.WaitGroup
	wg.Go(func() { shadow = m.rpc.Shadow.Do(ctx, &ex.Request) })
	prod = m.rpc.Prod.Do(ctx, &ex.Request)
	wg.Wait()
	return prod, shadow
}
