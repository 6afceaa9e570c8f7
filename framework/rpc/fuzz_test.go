package rpc_test

import (
	"bytes"
	"testing"

	"github.com/shadowtest/shadowtest/framework/rpc"
)

// FuzzFrames splits arbitrary bytes as a gRPC message stream: it never
// panics, keeps to its limit, and a stream of uncompressed frames it
// accepts whole is exactly its messages framed again.
func FuzzFrames(f *testing.F) {
	f.Add(frame([]byte("\x0a\x017")), "", int64(0))
	f.Add(append(frame(nil), frame([]byte("abc"))...), "identity", int64(4))
	f.Add([]byte{1, 0, 0, 0, 3, 'a', 'b', 'c'}, "gzip", int64(100))
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff}, "", int64(0))
	f.Fuzz(func(t *testing.T, data []byte, encoding string, limit int64) {
		messages, truncated, err := rpc.Frames(data, encoding, limit)
		if err != nil {
			return
		}
		var total int64
		var again []byte
		for _, m := range messages {
			total += int64(len(m))
			again = append(again, frame(m)...)
		}
		if limit > 0 && total > limit {
			t.Fatalf("%d bytes of messages over the limit %d", total, limit)
		}
		if truncated {
			return // the frames after the cap were not checked
		}
		compressed := false
		for rest := data; len(rest) >= 5; { // a stream accepted whole: every length is in bounds
			n := int(rest[1])<<24 | int(rest[2])<<16 | int(rest[3])<<8 | int(rest[4])
			compressed = compressed || rest[0] == 1
			rest = rest[5+n:]
		}
		if !compressed && !bytes.Equal(again, data) {
			t.Fatalf("framing the messages again gives %q, not %q", again, data)
		}
	})
}
