package traffic

import (
	"bytes"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// harEntry holds the parts of a HAR 1.2 entry shadowtest uses. Other
// fields, including custom ones starting with "_", are ignored.
type harEntry struct {
	StartedDateTime string       `json:"startedDateTime"`
	Time            float64      `json:"time"` // total elapsed milliseconds
	Request         *harRequest  `json:"request"`
	Response        *harResponse `json:"response"`
}

type harRequest struct {
	Method      string         `json:"method"`
	URL         string         `json:"url"`
	Headers     []harNameValue `json:"headers"`
	QueryString []harNameValue `json:"queryString"`
	PostData    *harPostData   `json:"postData"`
}

type harNameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType string     `json:"mimeType"`
	Text     string     `json:"text"`
	Params   []harParam `json:"params"`
}

type harParam struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
}

type harResponse struct {
	Status  int            `json:"status"`
	Headers []harNameValue `json:"headers"`
	Content harContent     `json:"content"`
}

type harContent struct {
	Text     string `json:"text"`
	Encoding string `json:"encoding"`
}

// exchange converts the entry; Origin is left to the caller.
func (e *harEntry) exchange() (framework.Exchange, error) {
	var ex framework.Exchange
	var err error
	if ex.Time, err = parseTime("startedDateTime", e.StartedDateTime); err != nil {
		return ex, err
	}
	if e.Request == nil {
		return ex, missing("request")
	}
	if ex.Request, err = e.Request.request(); err != nil {
		return ex, err
	}
	if e.Response != nil && e.Response.Status != 0 {
		if ex.Recorded, err = e.Response.response(); err != nil {
			return ex, err
		}
		if e.Time > 0 && e.Time < 1e9 {
			ex.Recorded.Latency = millis(e.Time)
		}
	}
	return ex, nil
}

func (r *harRequest) request() (framework.Request, error) {
	var req framework.Request
	var err error
	if req.Method, err = checkMethod("request.method", r.Method); err != nil {
		return req, err
	}
	if req.URL, err = originForm("request.url", r.URL); err != nil {
		return req, err
	}
	if !strings.Contains(req.URL, "?") && len(r.QueryString) > 0 {
		req.URL += "?" + formEncode(r.QueryString)
	}
	headers := headerList{field: "request.headers"}
	var authority string
	for i, h := range r.Headers {
		if isPseudoHeader(h.Name) {
			if strings.EqualFold(h.Name, ":authority") {
				authority = h.Value
			}
			continue
		}
		if err := headers.add(i, h.Name, h.Value); err != nil {
			return req, err
		}
	}
	if r.PostData != nil {
		if req.Body, err = r.PostData.body(); err != nil {
			return req, err
		}
		mimeType := r.PostData.MimeType
		if req.Body != nil && mimeType != "" && headers.header.Get("Content-Type") == "" {
			if err := headers.add(-1, "Content-Type", mimeType); err != nil {
				return req, fieldError("request.postData.mimeType", "%s is not a valid Content-Type", scrub.Snippet([]byte(mimeType), nil))
			}
		}
	}
	req.Host = requestHost(headers.header, authority)
	req.Header = cleanRequestHeader(headers.header)
	return req, nil
}

// body returns postData.text, or the params encoded for postData.mimeType
// when the text is absent.
func (p *harPostData) body() ([]byte, error) {
	if p.Text != "" || len(p.Params) == 0 {
		return nonEmpty([]byte(p.Text)), nil
	}
	mediaType, params, err := mime.ParseMediaType(p.MimeType)
	if p.MimeType == "" {
		mediaType, err = "application/x-www-form-urlencoded", nil
	}
	if err != nil {
		return nil, fieldError("request.postData.mimeType", "%s: %v", scrub.Snippet([]byte(p.MimeType), nil), err)
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		pairs := make([]harNameValue, len(p.Params))
		for i, param := range p.Params {
			pairs[i] = harNameValue{Name: param.Name, Value: param.Value}
		}
		return []byte(formEncode(pairs)), nil
	case "multipart/form-data":
		return multipartBody(p.Params, params["boundary"])
	}
	return nil, fieldError("request.postData.params", "cannot encode params as %q", mediaType)
}

// formEncode encodes name/value pairs as a query string, keeping their
// recorded order (url.Values would sort them).
func formEncode(pairs []harNameValue) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}

// multipartBody rebuilds a multipart/form-data body with the recorded
// boundary, so that it matches the recorded Content-Type header.
func multipartBody(params []harParam, boundary string) ([]byte, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, fieldError("request.postData.mimeType", "multipart boundary %s: %v", scrub.Snippet([]byte(boundary), nil), err)
	}
	for _, p := range params {
		// Quoted like browsers and mime/multipart's CreateFormFile do.
		disposition := `form-data; name="` + quoteEscaper.Replace(p.Name) + `"`
		if p.FileName != "" {
			disposition += `; filename="` + quoteEscaper.Replace(p.FileName) + `"`
		}
		part := textproto.MIMEHeader{"Content-Disposition": {disposition}}
		if p.ContentType != "" {
			part.Set("Content-Type", p.ContentType)
		}
		pw, err := w.CreatePart(part)
		if err == nil {
			_, err = pw.Write([]byte(p.Value))
		}
		if err != nil {
			return nil, err // writes to a bytes.Buffer do not fail
		}
	}
	w.Close()
	return body.Bytes(), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// responseDropped lists recorded response headers that no longer describe
// the body: HAR stores it decoded and de-chunked.
var responseDropped = []string{"Content-Encoding", "Content-Length", "Transfer-Encoding"}

func (r *harResponse) response() (*framework.Response, error) {
	if r.Status < 100 || r.Status > 999 {
		return nil, fieldError("response.status", "%d is not an HTTP status", r.Status)
	}
	resp := &framework.Response{Status: r.Status}
	headers := headerList{field: "response.headers"}
	for i, h := range r.Headers {
		if isPseudoHeader(h.Name) {
			continue
		}
		if err := headers.add(i, h.Name, h.Value); err != nil {
			return nil, err
		}
	}
	switch r.Content.Encoding {
	case "":
		resp.Body = nonEmpty([]byte(r.Content.Text))
	case "base64":
		body, err := decodeBase64("response.content.text", r.Content.Text)
		if err != nil {
			return nil, err
		}
		resp.Body = body
	default:
		return nil, fieldError("response.content.encoding", "unsupported %s (want \"base64\" or none)", scrub.Snippet([]byte(r.Content.Encoding), nil))
	}
	// HAR stores the body decoded, but some recorders store the encoded
	// bytes (base64 of gzip): undo the recorded Content-Encoding when the
	// body is still encoded.
	body, err := decodeRecordedBody(headers.header, resp.Body)
	if err != nil {
		return nil, fieldError("response.content.text", "%v", err)
	}
	resp.Body = nonEmpty(body)
	for _, name := range responseDropped {
		headers.header.Del(name)
	}
	resp.Header = nilIfEmpty(headers.header)
	return resp, nil
}
