package compare

import (
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestCompareTextTokens checks text bodies compared line by line and token
// by token, as for endpoints that learn noise.
func TestCompareTextTokens(t *testing.T) {
	tokens := framework.Rules{TextTokens: true}
	text := func(name, prod, shadow string, rules framework.Rules, reason string, want ...framework.Diff) compareCase {
		return compareCase{name: name, prod: response(200, prod, "Content-Type: text/plain"), shadow: response(200, shadow, "Content-Type: text/plain"),
			rules: rules, want: want, reason: reason}
	}
	runCompareCases(t, []compareCase{
		text("one token", "served by 127.0.0.1:40224 at 10:00\nbye\n", "served by 127.0.0.1:40230 at 10:00\nbye\n", tokens,
			"a changed token is reported at its line and token, as a JSON string",
			d(kValue, "body:1:5", `"127.0.0.1:40224"`, `"127.0.0.1:40230"`)),
		text("port dropped", "served by 127.0.0.1:40224\n", "served by 127.0.0.1\n", tokens,
			"a token that lost its distinctive format is a shape difference",
			d(kShape, "body:1:5", `"127.0.0.1:40224"`, `"127.0.0.1"`)),
		text("markup", `<p class="id">7</p>`, `<p class="id">8</p>`, tokens,
			"markup punctuation separates tokens",
			d(kValue, "body:1:10", `"7"`, `"8"`)),
		text("line changed shape", "a b c\nx\n", "a b\nx\n", tokens,
			"a line whose tokens do not line up is reported whole",
			d(kValue, "body:1", `"a b c"`, `"a b"`)),
		text("lines added", "a\n", "a\nb\n", tokens,
			"different line counts: the whole body, as without tokens",
			d(kSize, "body", "line 2: (no line)", "line 2: b")),
		text("without the rule", "served by 127.0.0.1:40224\n", "served by 127.0.0.1:40230\n", framework.Rules{},
			"without TextTokens a text body is one value",
			d(kValue, "body", "served by 127.0.0.1:40224", "served by 127.0.0.1:40230")),
	})
}
