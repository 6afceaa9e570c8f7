package scrub

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// Words are the words that make a name secret. A name is split into words
// on "-", "_", ".", spaces and camelCase after percent-decoding, and is
// secret when one of its words contains one of these (accessToken, oauth,
// passwd, sessionid); "key" counts only as a word or at the end of one
// (apikey, not keyboard), "sig" only as a word, and "author" and
// "authority" are not "auth". "pass" and "word" as two words are
// "password" (pass_word, Pass Word, PassWord; see PassWordSplit).
var Words = [...]string{"auth", "token", "key", "secret", "passw", "pwd", "jwt", "session", "cookie", "signature", "sig", "credential", "bearer"}

// Names decides which names (headers, query parameters, cookies, form
// fields, JSON members) are secret. The zero value and nil use Words only.
// Safe for concurrent use once built.
type Names struct {
	extra [][]string      // word sequences a spec added
	allow map[string]bool // normalised names a spec allowed
	// decided caches Secret's answer by name: a run asks about the same
	// few header, parameter and member names for every pair, and
	// splitting a name into words costs a microsecond. At most
	// maxDecided names are kept, so that a shadow inventing names
	// cannot grow it; others are decided each time.
	decided sync.Map // name -> bool
	cached  atomic.Int32
}

// maxDecided bounds the names whose decision Names keeps, and
// maxDecidedLen their length: a shadow inventing 4,096 member names of a
// megabyte each must not make the cache hold gigabytes.
const (
	maxDecided    = 4096
	maxDecidedLen = 128
)

// NewNames returns Names with more secret names (matched by words like
// Words: "pin" makes "X-Pin" and "userPin" secret) and names allowed
// although their words look secret ("keyboard-layout", "tokenizer").
func NewNames(add, allow []string) *Names {
	n := &Names{allow: map[string]bool{}}
	for _, a := range add {
		if w := split(a); len(w) > 0 {
			n.extra = append(n.extra, w)
		}
	}
	for _, a := range allow {
		n.allow[strings.Join(split(a), "-")] = true
	}
	return n
}

var defaultNames = &Names{}

// Default returns Names with Words only.
func Default() *Names { return defaultNames }

// Secret reports whether values under name must never be printed.
func (n *Names) Secret(name string) bool {
	if n == nil {
		n = defaultNames
	}
	if secret, ok := n.decided.Load(name); ok {
		return secret.(bool)
	}
	secret := n.secret(name)
	if len(name) <= maxDecidedLen && n.cached.Load() < maxDecided {
		if _, loaded := n.decided.LoadOrStore(strings.Clone(name), secret); !loaded {
			n.cached.Add(1)
		}
	}
	return secret
}

func (n *Names) secret(name string) bool {
	words := split(name)
	if len(words) == 0 {
		return false
	}
	if n.allow[strings.Join(words, "-")] {
		return false
	}
	for i, w := range words {
		if secretWord(w) || i > 0 && words[i-1] == "pass" && PassWordSplit(w) {
			return true
		}
	}
	for _, seq := range n.extra {
		if containsSeq(words, seq) {
			return true
		}
	}
	return false
}

// PassWordSplit reports whether w, the word after "pass", makes the two a
// password written as two words: pass_word, Pass Word, PassWord, pass-wd
// (German Passwort too); not pass_weight or pass_window.
func PassWordSplit(w string) bool {
	return strings.HasPrefix(w, "word") || strings.HasPrefix(w, "wort") || w == "wd"
}

func secretWord(w string) bool {
	for _, k := range Words {
		switch {
		case w == k:
			return true
		case k == "sig":
			// only the whole word: design, signal and sight are not secret
		case k == "auth":
			author := strings.Contains(w, "author") && !strings.Contains(w, "authoriz") && !strings.Contains(w, "authoris")
			if strings.Contains(w, k) && !author {
				return true
			}
		case k == "key":
			// apikey, privatekey, keys; not keyboard or keyword
			if w == "keys" || strings.HasSuffix(w, k) {
				return true
			}
		case strings.Contains(w, k):
			return true
		}
	}
	return false
}

func containsSeq(words, seq []string) bool {
	for i := 0; i+len(seq) <= len(words); i++ {
		match := true
		for j := range seq {
			if words[i+j] != seq[j] && !(len(seq) == 1 && strings.Contains(words[i+j], seq[j])) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// split percent-decodes name (twice, for doubly encoded names) and splits
// it into lower-case words.
func split(name string) []string {
	for range 2 {
		if !strings.Contains(name, "%") {
			break
		}
		d, err := url.PathUnescape(name)
		if err != nil {
			break
		}
		name = d
	}
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && len(cur) > 0:
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// pairRE finds name=value and name: value pairs in a snippet.
var pairRE = regexp.MustCompile(`([A-Za-z0-9_.%-]+)"?\s*([=:])\s*"?([^\s"&;,]+)`)

// tokenRE finds runs that look like credentials: long, with letters and
// digits mixed.
var tokenRE = regexp.MustCompile(`[A-Za-z0-9+/_$.~=-]{12,}`)

// maskPairs masks the values of secret names and token-like runs in s.
func (n *Names) maskPairs(s string) string {
	s = pairRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := pairRE.FindStringSubmatchIndex(m)
		if !n.Secret(m[sub[2]:sub[3]]) {
			return m
		}
		return m[:sub[6]] + Mask + m[sub[7]:]
	})
	return tokenRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == Mask || countDigits(m) < 2 || !strings.ContainsFunc(m, unicode.IsLetter) {
			return m
		}
		return Mask
	})
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			n++
		}
	}
	return n
}

// PathTokens masks the segments of a URL path that look like credentials
// (long runs of letters and digits mixed: a password-reset token, a JWT,
// an API key), for labels built from paths that no rule describes, such
// as the method and template unmatched requests are counted under.
func PathTokens(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if tokenRE.FindString(p) == p && p != "" && countDigits(p) >= 2 && strings.ContainsFunc(p, unicode.IsLetter) {
			parts[i] = Mask
		}
	}
	return strings.Join(parts, "/")
}
