package spec

import (
	"strconv"
	"strings"
	"testing"
)

// TestSendRefusesHeadersReadingUnsetVariables: a target header reading a
// variable that is unset or empty went out empty on every request (a
// secret missing from the run step, a pull request from a fork); two
// targets refusing it alike matched and the gate passed on nothing. When
// the caller sends (run, proxy) it is an error at the header; vet, which
// CI runs without the run step's secrets, accepts it. ${NAME:-} and
// ${NAME:-default} say that empty is meant: never refused.
func TestSendRefusesHeadersReadingUnsetVariables(t *testing.T) {
	dir := writeFiles(t, map[string]string{"shadow.cue": `package shadow

targets: prod: headers: Authorization: "Bearer ${SHADOW_PROD_TOKEN}"
targets: shadow: headers: {
	Authorization: "Bearer ${SHADOW_TOKEN}"
	"X-Team":      "shop"
	"X-Feature":   "${SHADOW_FEATURE:-}"
	"X-Region":    "${SHADOW_REGION:-eu}"
}
endpoints: x: path: "/x"
`})
	t.Setenv("SHADOW_PROD_TOKEN", "")
	t.Setenv("SHADOW_TOKEN", "s3cret-value")
	t.Setenv("SHADOW_FEATURE", "") // ${NAME:-}: empty is meant, never refused
	t.Setenv("SHADOW_REGION", "")
	if _, err := Load(dir, Options{}); err != nil {
		t.Fatalf("vet (no Send): %v", err)
	}
	_, err := Load(dir, Options{Send: true})
	want := "shadow.cue:3:25: targets.prod.headers.Authorization: Authorization reads SHADOW_PROD_TOKEN, which is unset or empty here"
	hint := "or write ${SHADOW_PROD_TOKEN:-} (or ${SHADOW_PROD_TOKEN:-default}) when empty is meant"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), hint) || strings.Contains(err.Error(), "targets.shadow") {
		t.Errorf("Send with SHADOW_PROD_TOKEN empty: %v, want only %q", err, want)
	}
	t.Setenv("SHADOW_PROD_TOKEN", "p")
	if _, err := Load(dir, Options{Send: true}); err != nil {
		t.Errorf("Send with every variable set: %v", err)
	}
}

// TestDefaultsHoldingAReferenceRefused: a default is literal text, and
// os.Expand ends a reference at its first "}": the bash habit
// ${SHADOW_TOKEN:-${SHADOW_FALLBACK}} loaded, and with SHADOW_TOKEN unset
// every request carried the text "${SHADOW_FALLBACK}" (and a "}"), which
// two targets refuse alike: a false match (redteam10). A default may not
// read a variable a spec may not read either.
func TestDefaultsHoldingAReferenceRefused(t *testing.T) {
	for value, want := range map[string]string{
		"Bearer ${SHADOW_TOKEN:-${SHADOW_FALLBACK}}": `the default of ${SHADOW_TOKEN:-...} holds a "$"`,
		"${SHADOW_TOKEN:-$SHADOW_FALLBACK}":          `the default of ${SHADOW_TOKEN:-...} holds a "$"`,
		"${AWS_SECRET_ACCESS_KEY:-}":                 "reads the environment variable AWS_SECRET_ACCESS_KEY, which a spec may not read",
		"${AWS_SECRET_ACCESS_KEY:-x}":                "reads the environment variable AWS_SECRET_ACCESS_KEY, which a spec may not read",
		"${SHADOW_TOKEN:-${AWS_SECRET_ACCESS_KEY}}":  `the default of ${SHADOW_TOKEN:-...} holds a "$"`,
	} {
		dir := writeFiles(t, map[string]string{"shadow.cue": "package shadow\n\ntargets: prod: headers: \"X-Token\": " + strconv.Quote(value) + "\nendpoints: x: path: \"/x\"\n"})
		t.Setenv("SHADOW_TOKEN", "")
		_, err := Load(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), "shadow.cue:3:") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q at shadow.cue:3", value, err, want)
		}
	}
	dir := writeFiles(t, map[string]string{"shadow.cue": "package shadow\n\ntargets: prod: headers: \"X-Price\": \"${SHADOW_PRICE:-5 EUR}\"\nendpoints: x: path: \"/x\"\n"})
	if _, err := Load(dir, Options{Send: true}); err != nil {
		t.Errorf("a default without a reference: %v", err)
	}
}
