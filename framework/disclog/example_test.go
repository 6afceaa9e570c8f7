package disclog_test

import (
	"net/http"
	"os"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/redact"
)

// A log keeps the first pairs of each category in full, secrets masked,
// then the differences only, and ends with the counts per category.
func ExampleWriter() {
	red, _ := redact.New([]string{"$.token"})
	log := disclog.NewWriter(os.Stdout, disclog.Options{Examples: 1, Redactor: red})
	for range 2 {
		log.Add(&framework.Pair{
			Endpoint: "login",
			Exchange: framework.Exchange{Origin: "t.har: entry 1", Request: framework.Request{Method: "POST", URL: "/login", Header: http.Header{"Authorization": {"Basic YWRhOnB3"}}}},
			Prod:     framework.Response{Status: 200, Body: []byte(`{"token":"t1"}`)},
			Shadow:   framework.Response{Status: 500},
		}, []framework.Diff{{Path: "status", Kind: framework.KindStatus, Prod: "200", Shadow: "500"}})
	}
	log.Close()
	// Output:
	// {"type":"pair","endpoint":"login","origin":"t.har: entry 1","categories":["status status"],"example":true,"request":{"method":"POST","url":"/login","headers":{"Authorization":["[REDACTED]"]}},"prod":{"status":200,"body":{"text":"{\"token\":\"[REDACTED]\"}","size":22,"sha256":"892ea38b9d04f56458606a227d2f37d16795af81985f891799f9c1eca2eab250"},"latencyMs":0},"shadow":{"status":500,"latencyMs":0},"diffs":[{"path":"status","kind":"status","prod":"200","shadow":"500"}]}
	// {"type":"pair","endpoint":"login","origin":"t.har: entry 1","categories":["status status"],"diffs":[{"path":"status","kind":"status","prod":"200","shadow":"500"}]}
	// {"type":"category","endpoint":"login","category":"status status","pairs":2,"examples":1,"omitted":1,"version":1}
}
