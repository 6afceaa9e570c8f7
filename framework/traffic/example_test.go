package traffic_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

func ExampleNewJSONLReader() {
	input := `{"request":{"method":"GET","url":"https://shop.example.com/users/7?x=1","headers":{"Host":["shop.example.com"]}}}

{"request":{"method":"GET"}}
{"time":"2026-11-25T10:00:00Z","request":{"method":"POST","url":"/users","body":"{}"},"response":{"status":201}}
`
	r := traffic.NewJSONLReader(strings.NewReader(input), "traffic.jsonl")
	defer r.Close()
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(ex.Origin, ex.Request.Method, ex.Request.URL, ex.Request.Header, ex.Recorded != nil)
	}
	// Output:
	// traffic.jsonl: line 1 GET /users/7?x=1 map[] false
	// error: traffic.jsonl: line 3 (byte 116): request.url: missing
	// traffic.jsonl: line 4 POST /users map[] true
}

func ExampleWriteJSONL() {
	ex := framework.Exchange{
		Request:  framework.Request{Method: "PUT", URL: "/avatars/7", Body: []byte{0x89, 'P', 'N', 'G'}},
		Recorded: &framework.Response{Status: 204},
	}
	if err := traffic.WriteJSONL(os.Stdout, ex); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"request":{"method":"PUT","url":"/avatars/7","bodyBase64":"iVBORw=="},"response":{"status":204}}
}
