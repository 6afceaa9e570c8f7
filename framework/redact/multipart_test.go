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
