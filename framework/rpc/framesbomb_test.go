package rpc

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net/http"
	"runtime"
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

// TestFramesCapReachedExactlyInflatesNoMore: when the messages before a
// compressed frame fill the cap exactly, the frame's room was 0, which
// decompress read as "no cap" and inflated up to DefaultMaxMessageBytes
// (10 MiB under a 64 KiB cap) before the total was checked (redteam5).
func TestFramesCapReachedExactlyInflatesNoMore(t *testing.T) {
	const limit = 64 << 10
	frame := func(flag byte, msg []byte) []byte {
		prefix := []byte{flag, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(prefix[1:], uint32(len(msg)))
		return append(prefix, msg...)
	}
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write(make([]byte, 8<<20))
	zw.Close()
	body := append(frame(0, make([]byte, limit)), frame(1, bomb.Bytes())...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, over, err := Frames(body, "gzip", limit)
	runtime.ReadMemStats(&after)
	if err != nil || !over {
		t.Fatalf("over %v, err %v: want the cap said", over, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("a frame after a full cap of %d KiB allocated %d MiB", limit>>10, grew>>20)
	}
}
