package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// multipartBody masks a multipart body (a form posted as
// multipart/form-data, a multipart/mixed message): the content of a part
// whose form name looks secret (name="password") is masked and learned,
// and every other part is masked as BodyOf masks a body of its
// Content-Type (a JSON part by name). The parts are written again with the
// same boundary. A body that does not parse, or holds a multipart part
// (nested multipart is not read), returns an error: it is withheld.
func (r *Redactor) multipartBody(body []byte, boundary string) ([]byte, error) {
	if boundary == "" {
		return nil, errors.New("no boundary")
	}
	var out bytes.Buffer
	w := multipart.NewWriter(&out)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, err
	}
	reader := multipart.NewReader(bytes.NewReader(body), boundary)
	// The text before the first part and after the last (the preamble
	// and the epilogue) is not read as parts: kept as written, it showed
	// what it held (password=...). The parts are written without it.
	changed := outsideParts(body, boundary)
	for {
		part, err := reader.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		content, err := io.ReadAll(part)
		if err != nil {
			return nil, err
		}
		header := http.Header(part.Header)
		masked := content
		if media, _, _ := mime.ParseMediaType(header.Get("Content-Type")); strings.HasPrefix(media, "multipart/") {
			return nil, errors.New("nested multipart part")
		}
		if name := part.FormName(); name != "" && r.names.Secret(name) {
			r.learn(string(content))
			r.learn(strings.TrimSpace(string(content)))
			masked = []byte(Mask)
		} else if masked, _, err = r.BodyOf(header, content); err != nil {
			return nil, fmt.Errorf("part %q: %w", part.FormName(), err)
		}
		maskedHeader := r.Header(header)
		changed = changed || !bytes.Equal(masked, content) || !sameHeader(maskedHeader, header)
		pw, err := w.CreatePart(textproto.MIMEHeader(maskedHeader))
		if err != nil {
			return nil, err
		}
		pw.Write(masked)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if !changed {
		return body, nil
	}
	return out.Bytes(), nil
}

// outsideParts reports whether body holds more than white space before
// its first delimiter or after its closing one.
func outsideParts(body []byte, boundary string) bool {
	delimiter := []byte("--" + boundary)
	first := bytes.Index(body, delimiter)
	if first < 0 || len(bytes.TrimSpace(body[:first])) > 0 {
		return true
	}
	last := bytes.LastIndex(body, append(delimiter, '-', '-'))
	return last < 0 || len(bytes.TrimSpace(body[last+len(delimiter)+2:])) > 0
}

// sameHeader reports whether two headers hold the same values.
func sameHeader(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}
