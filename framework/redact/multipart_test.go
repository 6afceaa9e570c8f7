package redact

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// TestMultipartSecretsMaskedByName: a multipart body (a form posted with
// a file input, curl -F) is masked as a form is: parts named like a secret
// are masked and learned, JSON parts by member name, other parts kept;
// a body that does not parse as multipart, or nests one, is withheld.
func TestMultipartSecretsMaskedByName(t *testing.T) {
	const password, token, file = "Zk-multipart-password", "Zk-json-part-token", "plain file content"
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("user", "ada")
	w.WriteField("password", password)
	part, _ := w.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="profile"`}, "Content-Type": {"application/json"}})
	part.Write([]byte(`{"nick":"ada","access_token":"` + token + `"}`))
	fw, _ := w.CreateFormFile("upload", "notes.txt")
	fw.Write([]byte(file))
	w.Close()
	header := http.Header{"Content-Type": {w.FormDataContentType()}}

	r, sc := build(t)
	out, _, err := r.BodyOf(header, body.Bytes())
	if err != nil {
		t.Fatalf("a well-formed multipart form: %v", err)
	}
	for _, secret := range []string{password, token} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the secret %q is in the masked body:\n%s", secret, out)
		}
		if got := sc.Bytes([]byte("echo " + secret)); bytes.Contains(got, []byte(secret)) {
			t.Errorf("the secret %q was not learned: an echo of it elsewhere is kept", secret)
		}
	}
	parsed := multipart.NewReader(bytes.NewReader(out), w.Boundary())
	fields := map[string]string{}
	for {
		p, err := parsed.NextPart()
		if err != nil {
			break
		}
		var b bytes.Buffer
		b.ReadFrom(p)
		fields[p.FormName()] = b.String()
	}
	if fields["user"] != "ada" || fields["password"] != Mask || fields["upload"] != file || !strings.Contains(fields["profile"], `"nick":"ada"`) {
		t.Errorf("the masked body is not the same form with its secrets masked: %q", fields)
	}

	for _, tc := range []struct{ reason, body string }{
		{"no closing boundary and garbage", "--b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + password},
		{"nested multipart", "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + password + "\r\n--c--\r\n\r\n--b--\r\n"},
		{"a JSON part that does not parse", "--b\r\nContent-Type: application/json\r\n\r\n{\"token\":\"" + token + "\"\r\n--b--\r\n"},
	} {
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"multipart/form-data; boundary=b"}}, []byte(tc.body))
		if !errors.Is(err, ErrWithheld) || out != nil {
			t.Errorf("%s: got %q, %v; want it withheld", tc.reason, out, err)
		}
	}
}

// TestMultipartPreambleAndEpilogueAreNotShown: the text before a
// multipart body's first part and after its last is no part, so nothing
// masked it; a body whose parts held no secret was shown as written,
// password=... in its preamble included (redteam6). The body is written
// again without them; one without them is kept as written.
func TestMultipartPreambleAndEpilogueAreNotShown(t *testing.T) {
	r, sc := build(t)
	header := http.Header{"Content-Type": {"multipart/form-data; boundary=XyZ"}}
	parts := "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XyZ--\r\n"
	for _, body := range []string{
		"password=" + secret + "\r\n" + parts,
		`{"token":"` + secret + `"}` + "\r\n" + parts,
		parts + "epilogue token=" + secret + "\r\n",
	} {
		out, _, err := r.BodyOf(header, []byte(body))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if shown := sc.Bytes(out); bytes.Contains(shown, []byte(secret)) || !bytes.Contains(shown, []byte("hello")) {
			t.Errorf("%q\nshown as %q", body, shown)
		}
	}
	if out, _, _ := r.BodyOf(header, []byte("\r\n"+parts)); string(out) != "\r\n"+parts {
		t.Errorf("a body with nothing around its parts was written again: %q", out)
	}
}
