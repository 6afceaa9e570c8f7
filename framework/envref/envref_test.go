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

// TestDefaults: ${NAME:-default} reads default when the variable is unset
// or empty, and only a reference without one is required; a default never
// lets a spec read a variable it may not.
func TestDefaults(t *testing.T) {
	t.Setenv(AllowVar, "")
	t.Setenv("SHADOW_SET", "v1")
	t.Setenv("SHADOW_EMPTY", "")
	t.Setenv("GITHUB_TOKEN", "ghp_leak")
	var seen []string
	got := ExpandFunc("${SHADOW_SET:-d1}|${SHADOW_EMPTY:-d2}|${SHADOW_UNSET:-}|${GITHUB_TOKEN:-x}|${SHADOW_SET}", func(v string) { seen = append(seen, v) })
	if got != "v1|d2|||v1" {
		t.Errorf("expanded to %q, want %q", got, "v1|d2|||v1")
	}
	if !slices.Equal(seen, []string{"v1", "v1"}) {
		t.Errorf("seen %q, want the variables' values only", seen)
	}
	value := "${SHADOW_A:-x} $SHADOW_B ${SHADOW_C} ${SHADOW_A} ${GITHUB_TOKEN:-}"
	if n := Names(value); !slices.Equal(n, []string{"SHADOW_A", "SHADOW_B", "SHADOW_C", "GITHUB_TOKEN"}) {
		t.Errorf("Names = %q", n)
	}
	if r := Required(value); !slices.Equal(r, []string{"SHADOW_B", "SHADOW_C", "SHADOW_A"}) {
		t.Errorf("Required = %q", r)
	}
	if r := Refused(value); !slices.Equal(r, []string{"GITHUB_TOKEN"}) {
		t.Errorf("Refused = %q: a default must not hide the variable's name", r)
	}
}
