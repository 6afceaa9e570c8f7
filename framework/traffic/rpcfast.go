package traffic

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// An RPC record's usual form, read token by token: the gRPC replay reads
// one per call, and decoding it by reflection was the largest cost of
// reading. decodeFastRPC handles the lines a recorder writes (the names as
// FORMAT.md spells them, each member once, no null, valid UTF-8, nothing
// else) and
// declines any other line, which unmarshalRecord then decodes as
// encoding/json does; FuzzJSONLDecoders checks that both give the same
// record.

// fastRecordMax is the longest line decodeFastRPC takes: longer ones go
// to the generic decoder (the pooled decoders keep no huge buffer).
const fastRecordMax = 1 << 16

type fastDecoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var fastDecoders = sync.Pool{New: func() any { return new(fastDecoder) }}

// fastOptions: invalid UTF-8 is declined (encoding/json would replace
// it). Duplicate names are not checked by the decoder, which costs a
// lookup per name of every message: the record's own names are checked
// by once(), and a message's are kept as written, as encoding/json keeps
// them in a json.RawMessage; a metadata name given twice keeps its last
// values, as encoding/json does in a map.
var fastOptions = jsontext.AllowDuplicateNames(true)

// once reports whether bit is not in *seen yet, and adds it: a record's
// member given twice is declined (encoding/json merges the two).
func once(seen *uint16, bit uint16) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// decodeFastRPC decodes line into rec when it is an RPC record in its
// usual form, and reports whether it did; rec is left zero when not.
func decodeFastRPC(line []byte, rec *jsonlRecord) bool {
	if len(line) > fastRecordMax {
		return false
	}
	d := fastDecoders.Get().(*fastDecoder)
	d.buf = *bytes.NewBuffer(line) // read in place
	d.dec.Reset(&d.buf, fastOptions)
	ok := d.record(rec) && d.end()
	d.buf = bytes.Buffer{}
	d.dec.Reset(&d.buf) // drop the reference to line
	fastDecoders.Put(d)
	if !ok {
		*rec = jsonlRecord{}
	}
	return ok
}

// members reads an object, calling member with each name (quoted, as in
// the line) before the member's value is read.
func (d *fastDecoder) members(member func(name []byte) bool) bool {
	if d.dec.PeekKind() != '{' {
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	for d.dec.PeekKind() == '"' {
		name, err := d.dec.ReadValue()
		if err != nil || !member(name) {
			return false
		}
	}
	tok, err := d.dec.ReadToken()
	return err == nil && tok.Kind() == '}'
}

func (d *fastDecoder) end() bool {
	_, err := d.dec.ReadToken()
	return err == io.EOF
}

func (d *fastDecoder) record(rec *jsonlRecord) bool {
	var seen uint16
	return d.members(func(name []byte) bool {
		switch string(name) {
		case `"time"`:
			return once(&seen, 1) && d.str(&rec.Time)
		case `"rpc"`:
			rec.RPC = new(jsonlRPC)
			return once(&seen, 2) && d.rpc(rec.RPC)
		case `"response"`:
			rec.Response = new(jsonlResponse)
			return once(&seen, 4) && d.response(rec.Response)
		}
		return false
	})
}

func (d *fastDecoder) rpc(r *jsonlRPC) bool {
	var seen uint16
	return d.members(func(name []byte) bool {
		switch string(name) {
		case `"method"`:
			return once(&seen, 1) && d.str(&r.Method)
		case `"metadata"`:
			return once(&seen, 2) && d.header(&r.Metadata)
		case `"messages"`:
			var messages []json.RawMessage
			if !once(&seen, 4) || !d.raws(&messages) {
				return false
			}
			r.Messages = &messages
			return true
		case `"messagesBase64"`:
			return once(&seen, 8) && d.strs(&r.MessagesBase64)
		}
		return false
	})
}

func (d *fastDecoder) response(r *jsonlResponse) bool {
	var seen uint16
	return d.members(func(name []byte) bool {
		switch string(name) {
		case `"code"`:
			if !once(&seen, 1) {
				return false
			}
			v, err := d.dec.ReadValue()
			r.Code = json.RawMessage(v.Clone())
			return err == nil
		case `"message"`:
			return once(&seen, 2) && d.str(&r.Message)
		case `"metadata"`:
			return once(&seen, 4) && d.header(&r.Metadata)
		case `"trailers"`:
			return once(&seen, 8) && d.header(&r.Trailers)
		case `"messages"`:
			return once(&seen, 16) && d.raws(&r.Messages)
		case `"messagesBase64"`:
			return once(&seen, 32) && d.strs(&r.MessagesBase64)
		case `"detailsBase64"`:
			return once(&seen, 64) && d.str(&r.DetailsBase64)
		case `"latencyMs"`:
			if !once(&seen, 128) || d.dec.PeekKind() != '0' {
				return false
			}
			v, err := d.dec.ReadValue()
			if err != nil {
				return false
			}
			r.LatencyMs, err = strconv.ParseFloat(string(v), 64) // as encoding/json
			return err == nil
		}
		return false
	})
}

// str reads a string.
func (d *fastDecoder) str(s *string) bool {
	if d.dec.PeekKind() != '"' {
		return false
	}
	v, err := d.dec.ReadValue()
	if err != nil {
		return false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		*s = string(v[1 : len(v)-1])
		return true
	}
	b, err := jsontext.AppendUnquote(nil, v)
	*s = string(b)
	return err == nil
}

// strs reads an array of strings.
func (d *fastDecoder) strs(out *[]string) bool {
	if d.dec.PeekKind() != '[' {
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	list := []string{}
	for d.dec.PeekKind() == '"' {
		var s string
		if !d.str(&s) {
			return false
		}
		list = append(list, s)
	}
	tok, err := d.dec.ReadToken()
	*out = list
	return err == nil && tok.Kind() == ']'
}

// raws reads an array of JSON values, each copied as it is written.
func (d *fastDecoder) raws(out *[]json.RawMessage) bool {
	if d.dec.PeekKind() != '[' {
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	list := []json.RawMessage{}
	for k := d.dec.PeekKind(); k != ']'; k = d.dec.PeekKind() {
		if k == 0 {
			return false
		}
		v, err := d.dec.ReadValue()
		if err != nil {
			return false
		}
		list = append(list, json.RawMessage(v.Clone()))
	}
	_, err := d.dec.ReadToken()
	*out = list
	return err == nil
}

// header reads an object of arrays of strings.
func (d *fastDecoder) header(out *http.Header) bool {
	h := http.Header{}
	*out = h
	return d.members(func(name []byte) bool {
		var key string
		if bytes.IndexByte(name, '\\') < 0 {
			key = string(name[1 : len(name)-1])
		} else {
			b, err := jsontext.AppendUnquote(nil, name)
			if err != nil {
				return false
			}
			key = string(b)
		}
		var values []string
		if !d.strs(&values) {
			return false
		}
		h[key] = values
		return true
	})
}
