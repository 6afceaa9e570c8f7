package compare

import (
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// decimal is a JSON number split into its parts, without conversion:
// value = sign × digits × 10^exp, where digits is intPart followed by
// fracPart read as one integer.
type decimal struct {
	neg               bool
	intPart, fracPart string
	exp               int64 // the e/E exponent minus len(fracPart)
}

// maxExponent bounds the exponents handled exactly; numbers beyond it
// (far outside float64's range) compare by their text only.
const maxExponent = 1 << 20

// parseDecimal splits a JSON number; ok is false for anything that is not
// one or whose exponent is beyond ±maxExponent.
func parseDecimal(s string) (d decimal, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return d, false
	}
	d.intPart = s[start:i]
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return d, false
		}
		d.fracPart = s[start:i]
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		negExp := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			negExp = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			if d.exp = d.exp*10 + int64(s[i]-'0'); d.exp > maxExponent {
				return d, false
			}
			i++
		}
		if i == start {
			return d, false
		}
		if negExp {
			d.exp = -d.exp
		}
	}
	d.exp -= int64(len(d.fracPart))
	return d, i == len(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digit returns the i-th digit of intPart followed by fracPart.
func (d decimal) digit(i int) byte {
	if i < len(d.intPart) {
		return d.intPart[i]
	}
	return d.fracPart[i-len(d.intPart)]
}

// significant returns the range [lo, hi) of digits without leading and
// trailing zeros; lo == hi when the number is zero.
func (d decimal) significant() (lo, hi int) {
	hi = len(d.intPart) + len(d.fracPart)
	for lo < hi && d.digit(lo) == '0' {
		lo++
	}
	for hi > lo && d.digit(hi-1) == '0' {
		hi--
	}
	return lo, hi
}

// decimalEqual reports whether two JSON numbers have the same value
// exactly: 1, 1.0, 1e0 and 10e-1 are equal, and so are 0 and -0. Integers
// of any size and decimals of any precision are compared without rounding.
func decimalEqual(a, b string) bool {
	x, okA := parseDecimal(a)
	y, okB := parseDecimal(b)
	if !okA || !okB {
		return a == b
	}
	xlo, xhi := x.significant()
	ylo, yhi := y.significant()
	if xlo == xhi || ylo == yhi {
		return xlo == xhi && ylo == yhi // zero equals only zero, whatever the sign
	}
	// value = sign × digits[lo:hi] × 10^(exp + trailing zeros)
	xexp := x.exp + int64(len(x.intPart)+len(x.fracPart)-xhi)
	yexp := y.exp + int64(len(y.intPart)+len(y.fracPart)-yhi)
	if x.neg != y.neg || xhi-xlo != yhi-ylo || xexp != yexp {
		return false
	}
	for i := range xhi - xlo {
		if x.digit(xlo+i) != y.digit(ylo+i) {
			return false
		}
	}
	return true
}

// slack is a Tolerance as exact decimals: the float64 values of a rule are
// read as their shortest decimal text, so that abs 0.01 means exactly 0.01
// and two prices 0.01 apart are within it.
type slack struct {
	abs, rel   *big.Rat      // nil when zero
	absF, relF float64       // the same as float64, for the fast path
	skew       time.Duration // timestamps: 0 when off
}

func newSlack(t framework.Tolerance) slack {
	return slack{abs: floatRat(t.Abs), rel: floatRat(t.Rel), absF: t.Abs, relF: t.Rel}
}

// floatMargin bounds the relative error of the float64 fast path: each
// parsed number is within 2^-53 of its decimal value, and so is each
// tolerance; 1e-12 leaves a wide safety factor.
const floatMargin = 1e-12

// quickTolerance decides withinTolerance in float64 when the answer is
// clear by a wide margin; decided is false near a bound (or for numbers
// float64 cannot hold), where only exact arithmetic can tell.
func quickTolerance(prod, shadow string, tol slack) (within, decided bool) {
	p, err1 := strconv.ParseFloat(prod, 64)
	q, err2 := strconv.ParseFloat(shadow, 64)
	if err1 != nil || err2 != nil || math.IsInf(p, 0) || math.IsInf(q, 0) {
		return false, false
	}
	diff := math.Abs(p - q)
	slop := (math.Abs(p) + math.Abs(q) + diff) * floatMargin
	bound := tol.absF
	if r := tol.relF * math.Abs(p); r > bound {
		bound = r
	}
	margin := bound * floatMargin
	switch {
	case diff+slop < bound-margin:
		return true, true
	case diff-slop > bound+margin:
		return false, true
	}
	return false, false
}

func floatRat(f float64) *big.Rat {
	if f == 0 {
		return nil
	}
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return r
}

// withinTolerance reports whether |prod-shadow| <= abs or
// |prod-shadow| <= rel×|prod|, computed exactly in decimal.
func withinTolerance(prod, shadow string, tol slack) bool {
	if within, decided := quickTolerance(prod, shadow, tol); decided {
		return within
	}
	p, okP := numberRat(prod)
	s, okS := numberRat(shadow)
	if !okP || !okS {
		return false
	}
	diff := new(big.Rat).Sub(p, s)
	diff.Abs(diff)
	if tol.abs != nil && diff.Cmp(tol.abs) <= 0 {
		return true
	}
	if tol.rel == nil {
		return false
	}
	limit := p.Abs(p)
	return diff.Cmp(limit.Mul(limit, tol.rel)) <= 0
}

// exactLimit bounds the digits and exponent of numbers that tolerance
// applies to, so that exact arithmetic stays cheap; larger numbers (far
// beyond float64 range or precision) match only when equal.
const exactLimit = 4096

// numberRat converts a JSON number exactly.
func numberRat(s string) (*big.Rat, bool) {
	d, ok := parseDecimal(s)
	if !ok || len(d.intPart)+len(d.fracPart) > exactLimit || d.exp > exactLimit || d.exp < -2*exactLimit {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}
