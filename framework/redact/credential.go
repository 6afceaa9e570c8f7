package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// credentialValue reports whether a header value is a credential by its
// shape, whatever the header's name: an authentication scheme and its
// credentials ("Bearer ...", "Basic ...", "Digest username=..."), or a
// JSON Web Token ("eyJ...", as under X-Amzn-Oidc-Data). An innocent
// header name (X-Upstream-Auth-Copy is caught by name, X-Upstream is not)
// does not make the token any less secret.
func credentialValue(v string) bool {
	v = strings.TrimSpace(v)
	if len(v) < 12 {
		return false
	}
	if strings.HasPrefix(v, "eyJ") {
		return jwtShape.MatchString(v)
	}
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok || len(scheme) > len("aws4-hmac-sha256") {
		return false // every header of every pair comes here: most stop at once
	}
	for _, s := range tokenSchemes {
		if strings.EqualFold(scheme, s) {
			return token68.MatchString(cred)
		}
	}
	for _, s := range paramSchemes {
		if strings.EqualFold(scheme, s) {
			return strings.Contains(cred, "=")
		}
	}
	return false
}

// Authentication schemes whose credentials are one token (token68), and
// those whose credentials are parameters (name=value, ...).
var (
	tokenSchemes = [...]string{"Bearer", "Basic", "Token", "Negotiate", "NTLM", "DPoP", "ApiKey"}
	paramSchemes = [...]string{"Digest", "AWS4-HMAC-SHA256", "HOBA", "Mutual", "vapid", "Signature"}
)

var (
	// token68 is RFC 9110's credentials of a scheme such as Bearer, at
	// least 8 characters: "Token of appreciation" is prose.
	token68 = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]{8,}=*$`)
	// jwtShape is a JSON Web Token: a base64url JSON header ("eyJ"), a
	// payload and a signature, dot-separated.
	jwtShape = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*$`)
)

// credentialString reports whether a whole JSON string value is a
// credential by a stricter shape than credentialValue's, since any member
// of any body comes here and prose must be kept: a JSON Web Token whose
// header decodes to a JSON object with "alg"; "Bearer " and a token68 of at
// least 20 characters that is not a plain word; or "Basic " and base64 of
// at least 8 characters that decodes to user:password.
func credentialString(s string) bool {
	if len(s) < 12 || len(s) > 16<<10 {
		return false
	}
	if strings.HasPrefix(s, "eyJ") {
		return isJWT(s)
	}
	scheme, cred, ok := strings.Cut(s, " ")
	if !ok {
		return false
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return len(cred) >= 20 && token68.MatchString(cred) && !plainWord(cred)
	case strings.EqualFold(scheme, "Basic"):
		if len(cred) < 8 || !token68.MatchString(cred) {
			return false
		}
		plain, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false
		}
		user, _, ok := strings.Cut(string(plain), ":")
		return ok && user != "" && utf8.Valid(plain) && !strings.ContainsFunc(string(plain), unicode.IsControl)
	}
	return false
}

// isJWT reports whether s is a JSON Web Token: jwtShape, and a header that
// decodes to a JSON object with an "alg" member.
func isJWT(s string) bool {
	if !jwtShape.MatchString(s) {
		return false
	}
	head, _, _ := strings.Cut(s, ".")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return false
	}
	var header map[string]any
	if json.Unmarshal(raw, &header) != nil {
		return false
	}
	_, ok := header["alg"]
	return ok
}

// plainWord reports whether a token is a plain word ("Bearer Internationalization"):
// letters only, none upper case after the first. A random token of 20
// characters or more has a digit, a symbol or mixed case.
func plainWord(s string) bool {
	for i, c := range s {
		if !unicode.IsLetter(c) || i > 0 && unicode.IsUpper(c) {
			return false
		}
	}
	return true
}

// inlineCredentials masks the credentials that free text carries by
// shape, not by name: "Bearer " or "Basic " and a token that
// credentialString would mask as a whole ("rejected Bearer eyJ…: expired"),
// and a JSON Web Token (isJWT) standing alone. The scheme and the rest of
// the text are kept; prose is ("Bearer of bad news"). The text is read
// once: each run is looked at once, from its start.
func (r *Redactor) inlineCredentials(src []byte) ([]byte, bool) {
	var out []byte
	copied := 0
	mask := func(from, to int) {
		r.learn(string(src[from:to]))
		if out == nil {
			out = make([]byte, 0, len(src))
		}
		out = append(append(out, src[copied:from]...), Mask...)
		copied = to
	}
	for i := 0; i < len(src); {
		if i > 0 && isToken68Byte(src[i-1]) || !isToken68Byte(src[i]) {
			i++
			continue
		}
		if scheme := inlineScheme(src[i:]); scheme > 0 {
			from := i + scheme
			for from < len(src) && src[from] == ' ' {
				from++
			}
			to := token68End(src, from)
			if to > from && credentialString(string(src[i:i+scheme-1])+" "+string(src[from:to])) {
				mask(from, to)
			}
			i = max(to, i+1)
			continue
		}
		to := token68End(src, i)
		if to-i >= 12 && src[i] == 'e' && src[i+1] == 'y' && src[i+2] == 'J' && isJWT(string(src[i:to])) {
			mask(i, to)
		}
		i = to
	}
	if out == nil {
		return src, false
	}
	return append(out, src[copied:]...), true
}

// mayHoldCredential is inlineCredentials' cheap first look: s holds
// "eyJ" or "bearer "/"basic " in any case.
func mayHoldCredential[T string | []byte](s T) bool {
	for i := 0; i+3 <= len(s); i++ {
		switch s[i] | 0x20 {
		case 'e':
			if s[i+1] == 'y' && s[i+2] == 'J' {
				return true
			}
		case 'b':
			if inlineScheme(s[i:]) > 0 {
				return true
			}
		}
	}
	return false
}

// mayBeCredentialText is credentialString's cheap first look at markup
// text as written, without allocating: it starts, after white space, with
// "eyJ", a scheme (inlineScheme) or a reference (&...;) that may spell one.
func mayBeCredentialText(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) >= 12 && (t[0] == '&' || bytes.HasPrefix(t, []byte("eyJ")) || inlineScheme(t) > 0)
}

// inlineScheme returns the length of "Bearer " or "Basic " (any case) at
// the start of b, or 0.
func inlineScheme[T string | []byte](b T) int {
	for _, s := range [...]string{"bearer ", "basic "} {
		if len(b) >= len(s) && asciiFoldEqual(b[:len(s)], s[:len(s)-1]) && b[len(s)-1] == ' ' {
			return len(s)
		}
	}
	return 0
}

// token68End returns where the token68 that starts at src[from] ends (its
// "=" padding included).
func token68End(src []byte, from int) int {
	to := from
	for to < len(src) && isToken68Byte(src[to]) {
		to++
	}
	for to < len(src) && src[to] == '=' {
		to++
	}
	return to
}

// isToken68Byte reports whether c may be part of RFC 9110's token68 (but
// its "=" padding).
func isToken68Byte(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}
