package mirror

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
)

// TestRecordedHostReachesBothTargets runs a service that echoes Host and
// one that builds absolute links from it, as prod and shadow on two
// loopback ports: with the recorded Host sent to both, the pair matches;
// each target can still send its own Host, or the host of its url.
func TestRecordedHostReachesBothTargets(t *testing.T) {
	services := map[string]http.HandlerFunc{
		"echo": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"host": r.Host})
		},
		"links": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", "http://"+r.Host+"/users/7")
			json.NewEncoder(w).Encode(map[string]string{"self": "http://" + r.Host + "/users/7"})
		},
	}
	cmp, err := compare.Compile(framework.Rules{Headers: []string{"Location"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, handler := range services {
		prodSrv, shadowSrv := httptest.NewServer(handler), httptest.NewServer(handler)
		defer prodSrv.Close()
		defer shadowSrv.Close()
		tests := []struct {
			name           string
			host           string
			prodT, shadowT func(*framework.Target)
			wantProd       string // the Host prod saw; "" for its url's host
			wantShadow     string
			reason         string
		}{
			{name: "recorded", host: "api.example.com", wantProd: "api.example.com", wantShadow: "api.example.com",
				reason: "both targets get the recorded Host, so echoes and links agree"},
			{name: "target sets its own", host: "api.example.com",
				shadowT:  func(tg *framework.Target) { tg.Headers = map[string]string{"Host": "candidate.internal"} },
				wantProd: "api.example.com", wantShadow: "candidate.internal",
				reason: "a target's Host header replaces the recorded one"},
			{name: "target removes it", host: "api.example.com",
				shadowT:  func(tg *framework.Target) { tg.RemoveHeaders = []string{"host"} },
				wantProd: "api.example.com", wantShadow: "",
				reason: "removeHeaders: [Host] sends the host of the target's url"},
			{name: "none recorded", host: "",
				reason: "without a recorded Host each target gets its own url's host"},
		}
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				prodT := framework.Target{Name: "prod", URL: prodSrv.URL, Timeout: 2 * time.Second}
				shadowT := framework.Target{Name: "shadow", URL: shadowSrv.URL, Timeout: 2 * time.Second}
				if tt.prodT != nil {
					tt.prodT(&prodT)
				}
				if tt.shadowT != nil {
					tt.shadowT(&shadowT)
				}
				m := &Mirror{Prod: NewClient(prodT, "", 1, 0), Shadow: NewClient(shadowT, "", 1, 0)}
				prod, shadow := m.Send(context.Background(), &framework.Request{Method: "GET", URL: "/users/7", Host: tt.host})
				if prod.Err != nil || shadow.Err != nil {
					t.Fatal(prod.Err, shadow.Err)
				}
				wantProd, wantShadow := or(tt.wantProd, prodSrv.Listener.Addr().String()), or(tt.wantShadow, shadowSrv.Listener.Addr().String())
				diffs := cmp.Compare(&prod, &shadow)
				if same := wantProd == wantShadow; same != (len(diffs) == 0) {
					t.Errorf("%s\nprod %s\nshadow %s\ndiffs %v", tt.reason, prod.Body, shadow.Body, diffs)
				}
				var body map[string]string
				json.Unmarshal(prod.Body, &body)
				if got := body["host"] + body["self"]; name == "echo" && got != wantProd {
					t.Errorf("%s: prod saw Host %q, want %q", tt.reason, got, wantProd)
				}
				json.Unmarshal(shadow.Body, &body)
				if got := body["host"] + body["self"]; name == "links" && got != "http://"+wantShadow+"/users/7" {
					t.Errorf("%s: shadow built %q, want a link to %q", tt.reason, got, wantShadow)
				}
			})
		}
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
