package compare

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestTextBodyShowsWhereItDiffers(t *testing.T) {
	page := func(title, id string) string {
		return "<html>\n<head>\n<title>" + title + "</title>\n</head>\n<body>\n<p>request " + id + "</p>\n<p>footer</p>\n</body>\n</html>\n"
	}
	tests := []struct {
		name         string
		rules        framework.Rules
		prod, shadow string
		want         framework.Diff
		excerpt      []string // lines the excerpt must hold, in order
		reason       string
	}{
		{
			name:    "first differing line",
			prod:    page("Shop", "1"),
			shadow:  page("Shop!", "1"),
			want:    d(kSize, "body", "line 3: <title>Shop</title>", "line 3: <title>Shop!</title>"),
			excerpt: []string{"--- prod", "+++ shadow", "@@ -1,5 +1,5 @@", " <head>", "-<title>Shop</title>", "+<title>Shop!</title>", " </head>"},
			reason:  "a text body difference names the first line that differs and shows a unified diff with two lines of context",
		},
		{
			name:    "masks per line",
			rules:   framework.Rules{Masks: []framework.Mask{{Pattern: "request [0-9]+"}}},
			prod:    page("Shop", "1"),
			shadow:  page("Shoe", "2"),
			want:    d(kValue, "body", "line 3: <title>Shop</title>", "line 3: <title>Shoe</title>"),
			excerpt: []string{"-<title>Shop</title>", "+<title>Shoe</title>", " </head>"},
			reason:  "a masked value (the request id on line 6) neither shows as a change nor hides the real one",
		},
		{
			name:    "shadow has fewer lines",
			prod:    "a\nb\nc\n",
			shadow:  "a\nb\n",
			want:    d(kSize, "body", "line 3: c", "line 3: (no line)"),
			excerpt: []string{"@@ -1,3 +1,2 @@", " a", " b", "-c"},
			reason:  "a line only one side has is shown as missing on the other",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCompile(t, tt.rules)
			got := c.Compare(response(200, tt.prod, "Content-Type: text/html"), response(200, tt.shadow, "Content-Type: text/html"))
			if !diffsEqual(got, []framework.Diff{tt.want}) {
				t.Fatalf("%s\ngot:\n%swant:\n%s", tt.reason, formatDiffs(got), formatDiffs([]framework.Diff{tt.want}))
			}
			rest := got[0].Excerpt
			for _, line := range tt.excerpt {
				i := strings.Index(rest, line+"\n")
				if i < 0 {
					t.Fatalf("%s\nexcerpt lacks %q (in order):\n%s", tt.reason, line, got[0].Excerpt)
				}
				rest = rest[i+len(line)+1:]
			}
			if strings.Contains(got[0].Excerpt, "request") && tt.rules.Masks != nil {
				t.Errorf("masked text in the excerpt:\n%s", got[0].Excerpt)
			}
		})
	}
}

// TestTextDiffIsBounded: a hostile shadow that changes every line of a
// large body gets an excerpt of at most MaxExcerptLines lines (plus the
// notes), each cut, from at most MaxTextDiffInput bytes of each body.
func TestTextDiffIsBounded(t *testing.T) {
	var prod, shadow strings.Builder
	for i := 0; prod.Len() < 4*MaxTextDiffInput; i++ {
		fmt.Fprintf(&prod, "line %d %s\n", i, strings.Repeat("p", 300))
		fmt.Fprintf(&shadow, "line %d %s\n", i, strings.Repeat("s", 300))
	}
	c := mustCompile(t, framework.Rules{})
	got := c.Compare(response(200, prod.String(), "Content-Type: text/plain"), response(200, shadow.String(), "Content-Type: text/plain"))
	if len(got) != 1 {
		t.Fatalf("diffs: %s", formatDiffs(got))
	}
	lines := strings.Split(strings.TrimSuffix(got[0].Excerpt, "\n"), "\n")
	if len(lines) > MaxExcerptLines+2 {
		t.Errorf("excerpt has %d lines, want at most %d", len(lines), MaxExcerptLines+2)
	}
	for _, line := range lines {
		if len(line) > excerptLineLimit+len("…") {
			t.Errorf("excerpt line of %d bytes", len(line))
		}
	}
	if !strings.HasSuffix(got[0].Excerpt, fmt.Sprintf("… only the first %d bytes of each body were diffed\n", MaxTextDiffInput)) {
		t.Errorf("no note that the bodies were cut:\n%s", got[0].Excerpt)
	}
	if got[0].Prod != "line 1: line 0 "+strings.Repeat("p", 300)[:120-len("line 0 ")]+"…" && !strings.HasPrefix(got[0].Prod, "line 1: …") {
		t.Errorf("prod shown as %q", got[0].Prod)
	}
}

// TestStructuredTextStaysWhole: JSON that does not parse (or a form),
// compared as text, is shown from its start and without an excerpt, so
// that the outputs can redact it as a whole instead of leaking a secret
// member line by line.
func TestStructuredTextStaysWhole(t *testing.T) {
	for _, body := range []string{"{\n\"token\": \"s3cret-1\",\n\"a\": 1\n", "\ufeff{\"password\":\"p-1\"}\n{}", "user=ada&token=t-1"} {
		shadow := strings.Replace(body, "1", "2", 1)
		got := mustCompile(t, framework.Rules{}).Compare(response(200, body, "Content-Type: text/plain"), response(200, shadow, "Content-Type: text/plain"))
		if len(got) != 1 || got[0].Excerpt != "" || got[0].Prod != clipString(body) {
			t.Errorf("%q: %s excerpt %q", body, formatDiffs(got), got[0].Excerpt)
		}
	}
}
