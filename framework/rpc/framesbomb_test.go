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

// TestFromFramesBoundsMessageCount: empty messages add nothing to the byte
// total, so 5-byte frames carried about 200,000 messages per MiB under the
// cap, each then decoded and written as {} by the live proxy's copy
// worker (redteam5). The number of messages is capped too (MaxMessages,
// one per 64 bytes of the cap): a request with more is an error as one
// over the byte cap is, a response with more is cut and marked truncated.
func TestFromFramesBoundsMessageCount(t *testing.T) {
	const limit = 1 << 20
	empty := bytes.Repeat([]byte{0, 0, 0, 0, 0}, limit/5) // within the byte cap
	w := Wire{
		Method:          "a.B/C",
		RequestBody:     empty,
		ResponseBody:    empty,
		ResponseTrailer: http.Header{"Grpc-Status": {"0"}},
	}
	req, _, err := (*Descriptors)(nil).FromFrames(w, limit)
	if err == nil || !strings.Contains(err.Error(), "over the body cap") {
		t.Errorf("a request of %d empty messages under a %d KiB cap: %v, want it refused as over the cap", len(empty)/5, limit>>10, err)
	}
	if req.RPC != nil && len(req.RPC.Messages) > MaxMessages(limit) {
		t.Errorf("%d request messages kept, want at most %d", len(req.RPC.Messages), MaxMessages(limit))
	}
	w.RequestBody = nil
	_, resp, _ := (*Descriptors)(nil).FromFrames(w, limit)
	if resp.RPC == nil || len(resp.RPC.Messages) != MaxMessages(limit) || !resp.Truncated {
		n := -1
		if resp.RPC != nil {
			n = len(resp.RPC.Messages)
		}
		t.Errorf("a response of %d empty messages: %d kept, truncated %v; want %d kept and truncated", len(empty)/5, n, resp.Truncated, MaxMessages(limit))
	}
	// Under the bound, nothing changes: as many messages as the cap's
	// share are all kept.
	w.ResponseBody = empty[:5*MaxMessages(limit)]
	if _, resp, _ := (*Descriptors)(nil).FromFrames(w, limit); resp.RPC == nil || len(resp.RPC.Messages) != MaxMessages(limit) || resp.Truncated {
		t.Errorf("a response of exactly MaxMessages messages was cut (truncated %v)", resp.Truncated)
	}
	if got := MaxMessages(2048); got != MinMessages {
		t.Errorf("MaxMessages(2048) = %d, want the floor %d", got, MinMessages)
	}
}
