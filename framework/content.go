package framework

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
)

// DecodeContent returns body with the Content-Encoding of header undone:
// gzip (x-gzip), deflate (zlib, or raw deflate as some servers send) and
// br, in reverse order of a list. Identity and an absent header leave it as
// is. A decoded body over limit bytes is an error, so a compression bomb
// costs no more than the cap. On error the body is returned unchanged.
func DecodeContent(header http.Header, body []byte, limit int64) ([]byte, error) {
	var codings []string
	for name, values := range header {
		if strings.EqualFold(name, "Content-Encoding") {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ",") {
					if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
						codings = append(codings, c)
					}
				}
			}
		}
	}
	decoded := body
	for i := len(codings) - 1; i >= 0; i-- {
		coding := codings[i]
		var rd io.Reader
		var err error
		switch coding {
		case "identity":
			continue
		case "gzip", "x-gzip":
			rd, err = gzip.NewReader(bytes.NewReader(decoded))
		case "deflate":
			rd, err = zlib.NewReader(bytes.NewReader(decoded))
			if err != nil {
				rd, err = flate.NewReader(bytes.NewReader(decoded)), nil
			}
		case "br":
			rd = brotli.NewReader(bytes.NewReader(decoded))
		default:
			return body, fmt.Errorf("unsupported Content-Encoding %q", coding)
		}
		if err != nil {
			return body, fmt.Errorf("%s: %w", coding, err)
		}
		out, err := io.ReadAll(io.LimitReader(rd, limit+1))
		switch {
		case err != nil:
			return body, fmt.Errorf("%s: %w", coding, err)
		case int64(len(out)) > limit:
			return body, fmt.Errorf("%s: decoded body exceeds %d bytes", coding, limit)
		}
		decoded = out
	}
	return decoded, nil
}
