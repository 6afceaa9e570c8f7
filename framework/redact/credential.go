package redact

import (
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
