package observe

import "github.com/shadowtest/shadowtest/framework"

// AddEndpoint adds aggregates for an endpoint that a live session's spec
// reload declares. For an endpoint it already has, it replaces the
// declaration, so that the session is judged by the thresholds in force
// at its end; the aggregates carry on.
func (r *Results) AddEndpoint(e framework.Endpoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	declared := e
	if agg := r.byName[e.Name]; agg != nil {
		agg.Spec = &declared
		return
	}
	agg := newEndpoint(e.Name)
	agg.Spec = &declared
	r.Endpoints = append(r.Endpoints, agg)
	r.byName[e.Name] = agg
}

// RetireEndpoint sets aside the aggregates of an endpoint that a live
// session's spec reload removed. If nothing reached it, they are
// dropped. Otherwise they are kept under newName (for example "get-user
// (removed by reload 2)"), so that the session's verdict still judges
// what was measured while the endpoint existed, and an endpoint of the
// same name declared later starts afresh. It reports whether they were
// kept.
func (r *Results) RetireEndpoint(name, newName string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	agg := r.byName[name]
	if agg == nil {
		return false
	}
	delete(r.byName, name)
	withheld, _ := agg.Withheld()
	if agg.Requests == 0 && withheld == 0 {
		for i, e := range r.Endpoints {
			if e == agg {
				r.Endpoints = append(r.Endpoints[:i], r.Endpoints[i+1:]...)
				break
			}
		}
		delete(r.names, name)
		return false
	}
	agg.Name = newName
	if agg.Spec != nil {
		declared := *agg.Spec
		declared.Name = newName
		agg.Spec = &declared
	}
	r.byName[newName] = agg
	if n, ok := r.names[name]; ok {
		r.names[newName] = n
		delete(r.names, name)
	}
	return true
}
