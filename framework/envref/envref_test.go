package envref

import (
	"slices"
	"testing"
)

func TestAllowed(t *testing.T) {
	t.Setenv(AllowVar, "PROD_TOKEN, TEAM_KEY")
	for name, want := range map[string]bool{
		"SHADOW_TOKEN":          true,
		"SHADOWTEST_KEY":        true,
		"PROD_TOKEN":            true,
		"TEAM_KEY":              true,
		"AWS_SECRET_ACCESS_KEY": false,
		"GITHUB_TOKEN":          false,
		"SHADOW":                false,
		"PROD":                  false, // whole names only
		"TEAM_KEY2":             false,
	} {
		if got := Allowed(name); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestExpandReadsOnlyAllowedVariables(t *testing.T) {
	t.Setenv("SHADOW_TOKEN", "s3cret")
	t.Setenv("GITHUB_TOKEN", "ghp_leak")
	t.Setenv(AllowVar, "")
	var seen []string
	got := ExpandFunc("Bearer ${SHADOW_TOKEN} $GITHUB_TOKEN ${GITHUB_TOKEN}", func(v string) { seen = append(seen, v) })
	if got != "Bearer s3cret  " {
		t.Errorf("expanded to %q", got)
	}
	if !slices.Equal(seen, []string{"s3cret"}) {
		t.Errorf("seen %q, want only the allowed value", seen)
	}
	if r := Refused("a ${SHADOW_TOKEN} $GITHUB_TOKEN ${HOME}${HOME}"); !slices.Equal(r, []string{"GITHUB_TOKEN", "HOME"}) {
		t.Errorf("Refused = %q", r)
	}
	t.Setenv(AllowVar, "GITHUB_TOKEN")
	if got := Expand("${GITHUB_TOKEN}"); got != "ghp_leak" {
		t.Errorf("an allowed variable expanded to %q", got)
	}
}
