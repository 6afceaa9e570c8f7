package suite

import (
	"bytes"
	"context"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
)

// TestJUnitNamesUniqueNoiseAndSecrets checks what the CI UIs rely on: no
// two test cases share a name anywhere in the file, noise paths are
// properties and in system-out, and no secret reaches the file.
func TestJUnitNamesUniqueNoiseAndSecrets(t *testing.T) {
	p := plan()
	results := observe.NewResults(p.Endpoints)
	results.Redact = redact.Default().Value
	out := Run(Config{Plan: p, Results: results, NoColor: true, Replay: func(context.Context) error {
		for i := range 10 {
			results.Add(pair("get-user", i), []framework.Diff{{Path: "header:Authorization", Kind: framework.KindHeader, Prod: "Bearer SECRET", Shadow: "Bearer OTHER"}})
			results.Add(pair("get-order", i), nil)
		}
		results.AddNoise("get-order", []framework.Diff{{Path: "$.items[2].requestId", Kind: framework.KindValue}})
		return nil
	}})
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, out.Report, p, results); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Errorf("a secret reached the JUnit:\n%s", buf.String())
	}
	var parsed xmlSuites
	if err := xml.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range parsed.Suites {
		for _, c := range s.Cases {
			if seen[c.Name] {
				t.Errorf("test case name %q appears twice", c.Name)
			}
			seen[c.Name] = true
			if c.Time == "" {
				t.Errorf("%s: no time", c.Name)
			}
		}
		if s.Name != "shadowtest.get-order" {
			continue
		}
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if props["noisePaths"] != "$.items[*].requestId" || props["noiseProbes"] != "1" {
			t.Errorf("noise properties %v", props)
		}
		if !strings.Contains(s.SystemOut, `noise $.items[*].requestId: changed in 1 of 1 prod probes; suggested rule ignore: ["$.items[*].requestId"]`) {
			t.Errorf("system-out lacks the noise path:\n%s", s.SystemOut)
		}
	}
}
