package redact

import (
	"regexp"
	"strings"
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
