package rpc

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
)

// TestFromFramesBoundsRequestMessages: the live proxy decodes a selected
// call's request frames (kept up to the body cap) with FromFrames. Its
// request messages had no total bound, only DefaultMaxMessageBytes per
// message: a client sending gzip-compressed frames (grpc-encoding: gzip)
// of a few KiB each made the proxy inflate 10 MiB per frame, hundreds of
// them within the cap. They are bounded by the cap as the response's are,
// and a request over it is an error (not mirrored).
func TestFromFramesBoundsRequestMessages(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write(make([]byte, 4<<20))
	zw.Close()
	var body []byte
	for range 16 { // 16 frames of ~4 KiB, 64 MiB inflated
		prefix := make([]byte, 5)
		prefix[0] = 1
		binary.BigEndian.PutUint32(prefix[1:], uint32(bomb.Len()))
		body = append(append(body, prefix...), bomb.Bytes()...)
	}
	const limit = 1 << 20
	w := Wire{
		Method:         "a.B/C",
		RequestHeader:  http.Header{"Grpc-Encoding": {"gzip"}},
		RequestBody:    body,
		ResponseHeader: http.Header{"Grpc-Status": {"0"}},
	}
	req, _, err := (*Descriptors)(nil).FromFrames(w, limit)
	total := 0
	if req.RPC != nil {
		for _, m := range req.RPC.Messages {
			total += len(m)
		}
	}
	if total > 2*limit {
		t.Errorf("%d KiB of request frames inflated to %d MiB of messages under a %d KiB cap", len(body)>>10, total>>20, limit>>10)
	}
	if err == nil || !strings.Contains(err.Error(), "over the body cap") {
		t.Errorf("a request whose messages are over the cap: %v, want it said", err)
	}
}
