package redact

import (
	"errors"
	"strings"
)

// maxCarried bounds the JSON string that is read as a document carried as
// text: longer ones are masked as text only. Nesting needs no bound of its
// own: each level escapes the quotes of the one inside it again, so a
// document n levels deep is at least 2^n bytes long.
const maxCarried = 1 << 20

// carried masks a JSON string value that carries a document of its own:
// a JSON object or array (an SNS "Message", a webhook's payload as text),
// masked by name as the outer document is, or a form (name=value&...),
// masked as a form body. ok is false when s carries neither or nothing in
// it is secret.
func (r *Redactor) carried(s string) (out string, ok bool) {
	trimmed := strings.TrimLeft(s, " \t\r\n")
	switch {
	case len(s) > maxCarried || trimmed == "":
		return s, false
	case trimmed[0] == '{' || trimmed[0] == '[':
		masked, err := r.document([]byte(s))
		if errors.Is(err, errPairHidden) {
			r.learnDocuments([]byte(s))
			return Mask, true
		}
		if err != nil || string(masked) == s {
			return s, false
		}
		return string(masked), true
	case looksLikeForm(trimmed):
		if masked := r.params(s, "&"); masked != s {
			return masked, true
		}
	}
	return s, false
}
