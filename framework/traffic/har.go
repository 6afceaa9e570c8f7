package traffic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/shadowtest/shadowtest/framework"
)

// NewHARReader returns a Reader over the HAR 1.2 document r; name is used
// in Exchange.Origin and in errors ("demo.har: entry 3").
//
// The document is streamed: the reader walks the JSON tokens to
// log.entries and decodes one entry per call to Next, so memory depends
// on the largest entry, not on the file. A UTF-8 byte order mark is
// accepted. Entries come in file order, not sorted by startedDateTime.
func NewHARReader(r io.Reader, name string) Reader {
	return &harReader{src: r, name: name}
}

type harReader struct {
	src     io.Reader
	name    string
	dec     *json.Decoder
	bomLen  int64 // bytes skipped before the decoder's input
	entries int   // entries decoded so far
	entryAt int64 // byte offset where the last entry read starts
	started bool
	done    bool
	err     error // sticky: the stream cannot continue
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func (h *harReader) Next() (framework.Exchange, error) {
	if h.err != nil {
		return framework.Exchange{}, h.err
	}
	if h.done {
		return framework.Exchange{}, io.EOF
	}
	if !h.started {
		h.started = true
		if err := h.start(); err != nil {
			h.err = err
			return framework.Exchange{}, err
		}
	}
	if !h.dec.More() {
		if err := h.finish(); err != nil {
			h.err = err
			return framework.Exchange{}, err
		}
		h.done = true
		return framework.Exchange{}, io.EOF
	}
	h.entries++
	h.entryAt = h.dec.InputOffset() + h.bomLen
	var e harEntry
	if err := h.dec.Decode(&e); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			// Broken syntax or a read failure: the decoder cannot go on.
			h.err = h.recordOrFileError(err)
			return framework.Exchange{}, h.err
		}
		// The decoder consumed the whole entry; the next one is readable.
		return framework.Exchange{}, h.recordError(describeDecodeError(err))
	}
	ex, err := e.exchange()
	if err != nil {
		return framework.Exchange{}, h.recordError(err)
	}
	ex.Origin = origin(h.name, "entry", h.entries)
	return ex, nil
}

func (h *harReader) Close() error { return nil }

func (h *harReader) recordError(err error) error {
	return &RecordError{File: h.name, Record: h.entries, Unit: "entry", Offset: h.entryAt + 1, Err: err}
}

// recordOrFileError classifies an error from decoding an entry: broken
// JSON belongs to the entry, a failing read to the file.
func (h *harReader) recordOrFileError(err error) error {
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return h.recordError(errors.New("unexpected end of file"))
	case errors.As(err, &syntaxErr):
		return h.recordError(fmt.Errorf("invalid JSON at byte %d: %v", syntaxErr.Offset+h.bomLen, syntaxErr))
	}
	return h.fileError("%w", err)
}

func (h *harReader) fileError(format string, args ...any) error {
	return fmt.Errorf("%s: %w", h.name, fmt.Errorf(format, args...))
}

// start skips a byte order mark and walks to the first element of
// log.entries.
func (h *harReader) start() error {
	br := bufio.NewReader(h.src)
	if prefix, _ := br.Peek(len(utf8BOM)); bytes.Equal(prefix, utf8BOM) {
		br.Discard(len(utf8BOM))
		h.bomLen = int64(len(utf8BOM))
	}
	h.dec = json.NewDecoder(br)
	tok, err := h.dec.Token()
	if err != nil {
		return h.notHAR(err)
	}
	if tok != json.Delim('{') {
		return h.fileError("not a HAR file: want a JSON object, got %s", tokenKind(tok))
	}
	for {
		key, end, err := h.key()
		if err != nil {
			return h.notHAR(err)
		}
		if end {
			return h.fileError("not a HAR file: no log.entries array")
		}
		switch key {
		case "log":
			found, err := h.enterLog()
			if err != nil || found {
				return err
			}
		default:
			if err := skipValue(h.dec); err != nil {
				return h.notHAR(err)
			}
		}
	}
}

// enterLog walks the log object up to its entries array; it reports false
// when the object has none.
func (h *harReader) enterLog() (bool, error) {
	tok, err := h.dec.Token()
	if err != nil {
		return false, h.notHAR(err)
	}
	if tok != json.Delim('{') {
		return false, h.fileError("not a HAR file: log: want object, got %s", tokenKind(tok))
	}
	for {
		key, end, err := h.key()
		if err != nil {
			return false, h.notHAR(err)
		}
		if end {
			return false, nil
		}
		switch key {
		case "entries":
			tok, err := h.dec.Token()
			if err != nil {
				return false, h.notHAR(err)
			}
			if tok != json.Delim('[') {
				return false, h.fileError("not a HAR file: log.entries: want array, got %s", tokenKind(tok))
			}
			return true, nil
		default:
			if err := skipValue(h.dec); err != nil {
				return false, h.notHAR(err)
			}
		}
	}
}

// finish reads the end of the entries array and of the enclosing objects,
// so that a file truncated after its last entry is reported.
func (h *harReader) finish() error {
	if _, err := h.dec.Token(); err != nil { // the "]" that More saw
		return h.afterEntries(err)
	}
	for depth := 0; depth < 2; {
		_, end, err := h.key()
		if err != nil {
			return h.afterEntries(err)
		}
		if end {
			depth++
			continue
		}
		if err := skipValue(h.dec); err != nil {
			return h.afterEntries(err)
		}
	}
	return nil
}

// key reads an object key; end reports the end of the object instead.
func (h *harReader) key() (key string, end bool, err error) {
	tok, err := h.dec.Token()
	if err != nil {
		return "", false, err
	}
	if tok == json.Delim('}') {
		return "", true, nil
	}
	// Token validates JSON syntax, so inside an object it returns only
	// keys and "}".
	key, _ = tok.(string)
	return key, false, nil
}

func (h *harReader) notHAR(err error) error {
	return h.walkError("not a HAR file: ", err)
}

func (h *harReader) afterEntries(err error) error {
	return h.walkError(fmt.Sprintf("after entry %d: ", h.entries), err)
}

// walkError reports broken JSON outside the entries, or a failed read.
func (h *harReader) walkError(context string, err error) error {
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return h.fileError("%sunexpected end of file", context)
	case errors.As(err, &syntaxErr):
		return h.fileError("%sinvalid JSON at byte %d: %v", context, syntaxErr.Offset+h.bomLen, syntaxErr)
	}
	return h.fileError("%w", err)
}

// skipValue reads and discards one JSON value without building it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// tokenKind names the JSON type of a token for error messages.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('[') {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}
