package spec

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/synth"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/selector"
)

type rawGRPC struct {
	Protos        []string `json:"protos"`
	ImportPaths   []string `json:"importPaths"`
	DescriptorSet string   `json:"descriptorSet"`
	Reflection    bool     `json:"reflection"`
}

type rawTLS struct {
	CA                 string `json:"ca"`
	ServerName         string `json:"serverName"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify"`
}

// grpc decodes the grpc block, checks the gRPC endpoints and targets, and
// compiles the descriptors named by files so that a proto that does not
// compile, or an endpoint naming a method no service has, is reported
// now, with its position.
func (d *decoder) grpc(plan *framework.Plan) {
	path := []cue.Selector{cue.Str("grpc")}
	before := len(d.problems)
	v := d.value.LookupPath(cue.MakePath(path...))
	if v.Exists() {
		var raw rawGRPC
		if !d.get(&raw, nil, path...) {
			return
		}
		plan.GRPC = &framework.GRPC{Protos: raw.Protos, ImportPaths: raw.ImportPaths, DescriptorSet: raw.DescriptorSet, Reflection: raw.Reflection, Pos: d.pos(path...)}
		set := 0
		for _, on := range []bool{len(raw.Protos) > 0, raw.DescriptorSet != "", raw.Reflection} {
			if on {
				set++
			}
		}
		if set != 1 {
			d.report(path, plan.GRPC.Pos, "set exactly one of protos, descriptorSet and reflection: true (got %d)", set)
		}
		if len(raw.ImportPaths) > 0 && len(raw.Protos) == 0 {
			d.report(append(path, cue.Str("importPaths")), d.pos(append(path, cue.Str("importPaths"))...), "importPaths apply to protos only")
		}
		// .proto files (and imports) are read from the spec's repository
		// only: a spec does not read ../../../etc or /home/ci/.docker.
		source := rpc.SourceRoot(plan.Dir)
		for _, f := range []struct {
			field string
			list  []string
		}{{"importPaths", raw.ImportPaths}, {"protos", raw.Protos}} {
			for i, p := range f.list {
				if err := rpc.CheckInside(source, plan.Dir, p); err != nil {
					at := []cue.Selector{cue.Str("grpc"), cue.Str(f.field), cue.Index(i)}
					d.report(at, orPos(d.pos(at...), plan.GRPC.Pos), "%v", err)
				}
			}
		}
	}
	var grpcEndpoints, httpEndpoints []*framework.Endpoint
	for i := range plan.Endpoints {
		if plan.Endpoints[i].GRPC != "" {
			grpcEndpoints = append(grpcEndpoints, &plan.Endpoints[i])
		} else {
			httpEndpoints = append(httpEndpoints, &plan.Endpoints[i])
		}
	}
	if len(grpcEndpoints) > 0 {
		if plan.GRPC == nil {
			e := grpcEndpoints[0]
			d.report(endpointPath(e.Name, "grpc"), d.pos(endpointPath(e.Name, "grpc")...),
				`gRPC endpoints need descriptors: add grpc: {protos: ["service.proto"]} (or descriptorSet: "FILE", or reflection: true)`)
		}
		for _, t := range []*framework.Target{&plan.Prod, &plan.Shadow} {
			if ok, _ := rpc.Scheme(t.URL); !ok {
				p := []cue.Selector{cue.Str("targets"), cue.Str(t.Name), cue.Str("url")}
				d.report(p, orPos(d.pos(p...), grpcEndpoints[0].Pos), "gRPC endpoint %q cannot be sent to %s: use grpc://host:port or grpcs://host:port", grpcEndpoints[0].Name, t.URL)
			}
		}
	}
	if len(httpEndpoints) > 0 {
		for _, t := range []*framework.Target{&plan.Prod, &plan.Shadow} {
			if strings.HasPrefix(t.URL, "grpc") {
				p := []cue.Selector{cue.Str("targets"), cue.Str(t.Name), cue.Str("url")}
				d.report(p, orPos(d.pos(p...), httpEndpoints[0].Pos), "HTTP endpoint %q cannot be sent to a grpc:// target: give gRPC and HTTP endpoints separate spec directories", httpEndpoints[0].Name)
			}
		}
	}
	templates := rpcTemplates(plan)
	if plan.GRPC == nil && len(templates) > 0 {
		t := templates[0]
		d.report(t.path, orPos(d.pos(t.path...), t.pos), `synthetic rpc templates need descriptors: add grpc: {protos: ["service.proto"]} (or descriptorSet: "FILE", or reflection: true)`)
	}
	if plan.GRPC == nil || plan.GRPC.Reflection || len(d.problems) > before {
		return // reflection: the methods are known at run time
	}
	desc, err := rpc.Load(context.Background(), plan)
	if err != nil {
		d.descriptorProblems(plan.GRPC, err)
		return
	}
	methods := desc.Methods()
	for _, e := range grpcEndpoints {
		if !slices.ContainsFunc(methods, func(m string) bool { return selector.MatchMethod(e.GRPC, m) }) {
			p := endpointPath(e.Name, "grpc")
			d.report(p, orPos(d.pos(p...), e.Pos), "%s names no method of the descriptors%s", e.GRPC, closestMethods(e.GRPC, methods))
		}
	}
	// A synthetic rpc template names a method, and its first call's
	// message must be one of that method's requests: a typo fails vet, not
	// the run.
	for _, t := range templates {
		at := orPos(d.pos(t.path...), t.pos)
		md, err := desc.Method(t.req.RPC)
		if err != nil {
			d.report(t.path, at, "%s names no method of the descriptors%s", t.req.RPC, closestMethods(t.req.RPC, methods))
			continue
		}
		first := synth.Build(t.req, 0)
		if _, err := desc.FromJSON(md.Input(), first.Request.Body); err != nil {
			msg := append(slices.Clone(t.path[:len(t.path)-1]), cue.Str("message"))
			d.report(msg, orPos(d.pos(msg...), at), "the first call's message is not a %s: %v", md.Input().FullName(), err)
		}
	}
}

// rpcTemplate is a synthetic rpc template with its CUE path (to its rpc
// field) and the position of its traffic source.
type rpcTemplate struct {
	req  framework.SyntheticRequest
	path []cue.Selector
	pos  framework.Position
}

// rpcTemplates lists the synthetic rpc templates of the plan's traffic.
func rpcTemplates(plan *framework.Plan) []rpcTemplate {
	var out []rpcTemplate
	for i, src := range plan.Traffic {
		if src.Synthetic == nil {
			continue
		}
		for j, req := range src.Synthetic.Requests {
			if req.RPC != "" {
				path := []cue.Selector{cue.Str("traffic"), cue.Index(i), cue.Str("synthetic"), cue.Str("requests"), cue.Index(j), cue.Str("rpc")}
				out = append(out, rpcTemplate{req: req, path: path, pos: src.Pos})
			}
		}
	}
	return out
}

func endpointPath(name string, field string) []cue.Selector {
	return []cue.Selector{cue.Str("endpoints"), cue.Str(name), cue.Str(field)}
}

// descriptorProblems reports a proto compile error at the proto file's
// line:col, other load errors at the grpc block.
func (d *decoder) descriptorProblems(g *framework.GRPC, err error) {
	field := "protos"
	if g.DescriptorSet != "" {
		field = "descriptorSet"
	}
	path := []cue.Selector{cue.Str("grpc"), cue.Str(field)}
	var protoErr *rpc.ProtoError
	if !errors.As(err, &protoErr) {
		d.report(path, orPos(d.pos(path...), g.Pos), "%v", err)
		return
	}
	for _, p := range protoErr.Problems {
		pos := p.Pos
		if pos.File == "" {
			pos = orPos(d.pos(path...), g.Pos)
		} else if rel, err := filepath.Rel(".", pos.File); err == nil {
			pos.File = rel
		}
		d.report(path, pos, "%s", p.Message)
	}
}

// closestMethods suggests the methods of the same service, or the
// services, for a selector that names none.
func closestMethods(pattern string, methods []string) string {
	service, _, _ := strings.Cut(pattern, "/")
	var same []string
	services := map[string]bool{}
	var serviceList []string
	for _, m := range methods {
		s, _, _ := strings.Cut(m, "/")
		if selector.MatchMethod(service+"/*", m) {
			same = append(same, m)
		}
		if !services[s] {
			services[s] = true
			serviceList = append(serviceList, s)
		}
	}
	list, what := same, "methods of the service"
	if len(same) == 0 {
		list, what = serviceList, "services"
	}
	if len(list) == 0 {
		return " (the descriptors define no service)"
	}
	if len(list) > 8 {
		list = append(list[:8:8], "...")
	}
	return fmt.Sprintf(" (%s: %s)", what, strings.Join(list, ", "))
}

// targetTLS decodes a target's tls block.
func (d *decoder) targetTLS(target *framework.Target, raw *rawTLS) {
	if raw == nil {
		return
	}
	target.TLS = framework.TLS{CA: raw.CA, ServerName: raw.ServerName, InsecureSkipVerify: raw.InsecureSkipVerify}
	path := []cue.Selector{cue.Str("targets"), cue.Str(target.Name), cue.Str("tls")}
	if scheme, _, _ := strings.Cut(target.URL, "://"); scheme != "https" && scheme != "grpcs" {
		if _, overridden := d.targets[target.Name]; overridden {
			// -t shadow=http://localhost:8082 points a spec written for an
			// https staging at a plaintext build: its tls block is for its
			// own URL, not this one.
			target.TLS = framework.TLS{}
			return
		}
		d.report(path, d.pos(path...), "tls applies to https:// and grpcs:// targets; %s is plaintext", scheme+"://")
		return
	}
	if raw.CA != "" {
		// Read now, so that a missing or wrong CA file is a spec error
		// with its position, not a TLS failure on every request.
		if _, err := rpc.TLSConfig(target.TLS, d.dir); err != nil {
			at := append(path, cue.Str("ca"))
			d.report(at, d.pos(at...), "%s", strings.TrimPrefix(err.Error(), "tls.ca: "))
		}
	}
}
