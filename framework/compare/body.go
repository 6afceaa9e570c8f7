package compare

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// compareBody appends the body differences of a pair with equal statuses,
// adding to *more those found beyond MaxDiffs.
func (c *Comparator) compareBody(diffs []framework.Diff, prod, shadow *framework.Response, more *int) []framework.Diff {
	if c.ignoreRoot {
		return diffs
	}
	if prod.Truncated && shadow.Truncated {
		// Both were cut at the cap: the parts read are compared byte for
		// byte (parsing a cut document would report noise). Different
		// bytes are a difference; equal ones are all that can be known, so
		// the pair matches. A digest of the whole body would do better; the
		// mirror does not provide one.
		switch {
		case len(prod.Body) != len(shadow.Body):
			diffs = append(diffs, framework.Diff{Path: "body", Kind: framework.KindSize,
				Prod: sizeNote(prod), Shadow: sizeNote(shadow)})
		case !bytes.Equal(prod.Body, shadow.Body):
			diffs = append(diffs, framework.Diff{Path: "body", Kind: framework.KindValue,
				Prod: sizeNote(prod) + ": " + clipBytes(prod.Body), Shadow: sizeNote(shadow) + ": " + clipBytes(shadow.Body)})
		}
		return diffs
	}
	prodBody, prodErr := decodeContent(prod, c.decodeCap())
	shadowBody, shadowErr := decodeContent(shadow, c.decodeCap())
	switch {
	case prodErr != nil && shadowErr != nil:
		prodBody, shadowBody = prod.Body, shadow.Body // compare what was received
	case prodErr != nil || shadowErr != nil:
		return append(diffs, framework.Diff{Path: "body", Kind: framework.KindType,
			Prod: encodingNote(prodBody, prodErr), Shadow: encodingNote(shadowBody, shadowErr)})
	}
	if bytes.Equal(prodBody, shadowBody) {
		return diffs
	}
	if c.digestAbove > 0 && (int64(len(prodBody)) > c.digestAbove || int64(len(shadowBody)) > c.digestAbove) {
		return append(diffs, c.digestDiff(prodBody, shadowBody))
	}
	errorPair := c.errorsBy != nil && (prod.Status < 200 || prod.Status > 299 || prod.RPC != nil && prod.RPC.Code != 0)
	switch bodyKind(prod.Header, prodBody, shadowBody) {
	case bodyJSON:
		d, ok := c.compareJSON(diffs, prodBody, shadowBody, prod.Truncated, shadow.Truncated, errorPair, more)
		if ok {
			return d
		}
		// Neither side is JSON despite the content type: compare as text.
	case bodyForm:
		if !errorPair {
			return c.compareForm(diffs, prodBody, shadowBody)
		}
	case bodyBinary:
		if errorPair {
			return diffs
		}
		kind := framework.KindValue
		if len(prodBody) != len(shadowBody) {
			kind = framework.KindSize
		}
		return append(diffs, framework.Diff{Path: "body", Kind: kind, Prod: binaryNote(prodBody), Shadow: binaryNote(shadowBody)})
	}
	if errorPair {
		return diffs // errors.by: message text does not count
	}
	if len(c.masks) > 0 && c.masked(nil, prodBody, shadowBody) {
		return diffs
	}
	if c.textTokens && utf8.Valid(prodBody) && utf8.Valid(shadowBody) {
		if d, ok := c.tokenDiffs(diffs, prodBody, shadowBody); ok {
			return d
		}
	}
	return append(diffs, c.textDiff(prodBody, shadowBody))
}

// compareJSON compares two JSON bodies; ok is false when neither parses.
// For an error pair under errors.by only the error-type field is compared.
func (c *Comparator) compareJSON(diffs []framework.Diff, prodBody, shadowBody []byte, prodCut, shadowCut, errorPair bool, more *int) (_ []framework.Diff, ok bool) {
	// A body over MaxJSONValues is found without a tape: a dense 10 MB
	// array would otherwise build 18 MiB of tape per side to throw it away.
	if prodOver, shadowOver := overValues(prodBody), overValues(shadowBody); prodOver || shadowOver {
		return append(diffs, tooManyValuesDiff(prodBody, shadowBody, prodOver, shadowOver)), true
	}
	defer reserveTapes(prodBody, shadowBody)()
	prodTape, prodErr := parseTape(prodBody)
	if prodTape != nil {
		defer prodTape.put()
	}
	if prodErr == errTooManyValues { // not seen by overValues: cannot happen, but stay exact
		shadowTape, shadowErr := parseTape(shadowBody) // to say whether it is over too
		if shadowTape != nil {
			shadowTape.put()
		}
		return append(diffs, tooManyValuesDiff(prodBody, shadowBody, true, shadowErr == errTooManyValues)), true
	}
	shadowTape, shadowErr := parseTape(shadowBody)
	if shadowTape != nil {
		defer shadowTape.put()
	}
	switch {
	case shadowErr == errTooManyValues:
		return append(diffs, tooManyValuesDiff(prodBody, shadowBody, false, true)), true
	case prodErr == nil && shadowErr == nil:
		w := walker{c: c, prod: prodTape, shad: shadowTape, diffs: diffs, loc: make([]fieldpath.Step, 0, 16)}
		if errorPair {
			w.only = c.errorsBy
		}
		w.compare(0, 0)
		if errorPair && !w.onlySeen && len(w.diffs) == len(diffs) && w.more == 0 {
			// Neither answer has the errors.by field (nor differs on the
			// way to it): there is nothing to compare by, and a typo in its
			// path ($.eror.code) made every error pair match whatever the
			// bodies. Compared whole.
			w = walker{c: c, prod: prodTape, shad: shadowTape, diffs: diffs, loc: w.loc[:0]}
			w.compare(0, 0)
		}
		*more += w.more
		return w.diffs, true
	case prodErr != nil && shadowErr != nil:
		return diffs, false
	}
	return append(diffs, framework.Diff{Path: "body", Kind: framework.KindType,
		Prod: jsonNote(prodBody, prodCut, prodErr), Shadow: jsonNote(shadowBody, shadowCut, shadowErr)}), true
}

func looksLikeJSON(body []byte) bool {
	body = bytes.TrimLeft(body, " \t\r\n")
	return len(body) > 0 && (body[0] == '{' || body[0] == '[')
}

// jsonNote shows one side of a pair where only one body is valid JSON: the
// body itself on the valid side, the parse error on the other.
func jsonNote(body []byte, truncated bool, err error) string {
	if err == nil {
		return clipBytes(body)
	}
	note := "invalid JSON: " + err.Error()
	if truncated {
		note += " (body truncated at " + strconv.Itoa(len(body)) + " bytes)"
	}
	return clipString(note)
}

func sizeNote(r *framework.Response) string {
	return strconv.Itoa(len(r.Body)) + " bytes (truncated)"
}
