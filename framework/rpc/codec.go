package rpc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/shadowtest/shadowtest/framework"
)

// resolver finds message types for google.protobuf.Any: the descriptors'
// own types first, then the ones compiled into the binary (google.rpc
// error details).
type resolver struct{ local *dynamicpb.Types }

func (r resolver) FindMessageByName(name protoreflect.FullName) (protoreflect.MessageType, error) {
	if t, err := r.local.FindMessageByName(name); err == nil {
		return t, nil
	}
	return protoregistry.GlobalTypes.FindMessageByName(name)
}

func (r resolver) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	if t, err := r.local.FindMessageByURL(url); err == nil {
		return t, nil
	}
	return protoregistry.GlobalTypes.FindMessageByURL(url)
}

func (r resolver) FindExtensionByName(name protoreflect.FullName) (protoreflect.ExtensionType, error) {
	if t, err := r.local.FindExtensionByName(name); err == nil {
		return t, nil
	}
	return protoregistry.GlobalTypes.FindExtensionByName(name)
}

func (r resolver) FindExtensionByNumber(message protoreflect.FullName, field protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	if t, err := r.local.FindExtensionByNumber(message, field); err == nil {
		return t, nil
	}
	return protoregistry.GlobalTypes.FindExtensionByNumber(message, field)
}

func (d *Descriptors) resolver() resolver { return resolver{local: d.types} }

// Canonical returns a message's canonical protojson: lowerCamelCase names,
// default values left out, no insignificant space. protojson varies its
// spacing on purpose; compacting it makes equal messages equal bytes.
func (d *Descriptors) Canonical(m proto.Message) ([]byte, error) {
	return d.appendCanonical(nil, m)
}

// appendCanonical appends m's canonical protojson to buf. Required fields
// are not checked again (AllowPartial): a message decoded by FromWire or
// FromJSON was checked then, when its type can have any (see partial).
func (d *Descriptors) appendCanonical(buf []byte, m proto.Message) ([]byte, error) {
	start := len(buf)
	out, err := protojson.MarshalOptions{Resolver: d.resolver(), AllowPartial: true}.MarshalAppend(buf, m)
	if err != nil {
		return buf[:start], err
	}
	return out[:start+len(framework.CompactJSON(out[start:]))], nil
}

// FromJSON parses protojson (any accepted spelling: proto names, numbers
// as strings...) into a new message of type md.
func (d *Descriptors) FromJSON(md protoreflect.MessageDescriptor, data []byte) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	if err := (protojson.UnmarshalOptions{Resolver: d.resolver(), AllowPartial: d.partial(md)}).Unmarshal(data, m); err != nil {
		return nil, valueFree(err)
	}
	return m, nil
}

// valueFree is protojson's error without the value it quotes ("invalid
// value for string field password: 98765432101", "unexpected token
// \"sk_live_…\""): the error names a bad record in every output, and the
// value may be a secret that nothing has registered yet. The position and
// the reason stay, and the names of unknown or duplicate fields.
func valueFree(err error) error {
	msg := strings.TrimLeft(strings.TrimPrefix(err.Error(), "proto:"), " \u00a0") // protobuf spaces its prefix at random
	at := 0
	if i := strings.Index(msg, "): "); i >= 0 && strings.Contains(msg[:i], "(line ") {
		at = i + len("): ")
	}
	head, reason := msg[:at], msg[at:]
	for _, keep := range []string{"unknown field ", "duplicate field "} {
		if strings.HasPrefix(reason, keep) {
			return errors.New(msg)
		}
	}
	cut := len(reason)
	for _, stop := range []string{": ", "\"", "'"} {
		if i := strings.Index(reason, stop); i >= 0 {
			cut = min(cut, i)
		}
	}
	for _, lead := range []string{"unexpected token", "invalid value"} {
		if strings.HasPrefix(reason, lead) && !strings.HasPrefix(reason, "invalid value for ") {
			cut = min(cut, len(lead))
		}
	}
	if cut == len(reason) {
		return errors.New(msg)
	}
	return errors.New(head + strings.TrimRight(reason[:cut], " ") + " (value not shown)")
}

// marshalWire encodes request messages: their required fields were
// checked when they were decoded.
var marshalWire = proto.MarshalOptions{AllowPartial: true}

// partial reports whether messages of type md can skip the check of
// required fields (AllowPartial): neither md nor any message it can hold
// has one (proto3 has none). proto's check has no fast path for dynamic
// messages and costs about as much as decoding; a proto2 message missing
// a required field is still refused (a client of that service would
// refuse it too).
func (d *Descriptors) partial(md protoreflect.MessageDescriptor) bool {
	if v, ok := d.partials.Load(md.FullName()); ok {
		return v.(bool)
	}
	ok := !hasRequired(md, map[protoreflect.FullName]bool{})
	d.partials.Store(md.FullName(), ok)
	return ok
}

// hasRequired reports whether md or a message reachable from its fields
// has a required field, or may hold extensions (which may).
func hasRequired(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	if md.RequiredNumbers().Len() > 0 || md.ExtensionRanges().Len() > 0 {
		return true
	}
	fields := md.Fields()
	for i := range fields.Len() {
		if m := fields.Get(i).Message(); m != nil && hasRequired(m, seen) {
			return true
		}
	}
	return false
}

// FromWire parses protobuf wire bytes into a new message of type md.
func (d *Descriptors) FromWire(md protoreflect.MessageDescriptor, data []byte) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{Resolver: d.resolver(), AllowPartial: d.partial(md)}).Unmarshal(data, m); err != nil {
		return nil, err
	}
	return m, nil
}

// messages parses recorded messages (protojson, or wire bytes when wire)
// of type md.
func (d *Descriptors) messages(md protoreflect.MessageDescriptor, raw [][]byte, wire bool) ([]*dynamicpb.Message, error) {
	out := make([]*dynamicpb.Message, len(raw))
	for i, data := range raw {
		var err error
		if wire {
			out[i], err = d.FromWire(md, data)
		} else {
			out[i], err = d.FromJSON(md, data)
		}
		if err != nil {
			return nil, fmt.Errorf("message %d is not a %s: %w", i+1, md.FullName(), err)
		}
	}
	return out, nil
}

// Body is the canonical body of a list of messages: the one message of a
// call that is not a stream on that side, else the JSON array of them all.
func (d *Descriptors) Body(messages []*dynamicpb.Message, stream bool) ([]byte, error) {
	if !stream && len(messages) == 1 {
		return d.Canonical(messages[0])
	}
	buf := []byte{'['}
	for i, m := range messages {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = d.appendCanonical(buf, m); err != nil {
			return nil, err
		}
	}
	return append(buf, ']'), nil
}

// WireBody is the canonical body of messages of type md given in wire
// bytes, as the client writes an answer's: the one message of a call that
// is not a stream on that side, else the JSON array of them all. Each is
// written straight from its wire bytes where appendWireJSON can, else
// decoded and written with protojson; the first that does not decode is
// the error ("message 2 is not a pkg.Msg: ...", as messages says).
func (d *Descriptors) WireBody(md protoreflect.MessageDescriptor, wire [][]byte, stream bool) ([]byte, error) {
	array := stream || len(wire) != 1
	var buf []byte
	if array {
		buf = append(buf, '[')
	}
	for i, w := range wire {
		if i > 0 {
			buf = append(buf, ',')
		}
		var ok bool
		if buf, ok = d.appendWireJSON(buf, md, w); ok {
			continue
		}
		m, err := d.FromWire(md, w)
		if err != nil {
			return nil, &decodeError{fmt.Errorf("message %d is not a %s: %w", i+1, md.FullName(), err)}
		}
		if buf, err = d.appendCanonical(buf, m); err != nil {
			return nil, err
		}
	}
	if array {
		buf = append(buf, ']')
	}
	return buf, nil
}

// decodeError is a message of WireBody that does not decode (as opposed
// to one protojson cannot write).
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// StatusBody is the body of a response that ended with a code other than
// OK: the google.rpc.Status as protojson ({"code":5,"message":"...",
// "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",...}]}),
// so that errors.by can read "$.details[0].reason". A detail of a type
// neither the descriptors nor shadowtest know is shown as its type URL and
// its wire bytes in base64 ("value").
func (d *Descriptors) StatusBody(code int, message string, details []*anypb.Any) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"code":`)
	buf.WriteString(strconv.Itoa(code))
	if message != "" {
		buf.WriteString(`,"message":`)
		quoted, _ := json.Marshal(message)
		buf.Write(quoted)
	}
	if len(details) > 0 {
		buf.WriteString(`,"details":[`)
		for i, detail := range details {
			if i > 0 {
				buf.WriteByte(',')
			}
			if b, err := d.Canonical(detail); err == nil {
				buf.Write(b)
				continue
			}
			url, _ := json.Marshal(detail.GetTypeUrl())
			fmt.Fprintf(&buf, `{"@type":%s,"value":"%s"}`, url, base64.StdEncoding.EncodeToString(detail.GetValue()))
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// wireMessages returns a call's messages in wire bytes, checked against
// the method's input type.
func (d *Descriptors) wireMessages(md protoreflect.MessageDescriptor, call *framework.RPCCall) ([]rawMessage, error) {
	out := make([]rawMessage, len(call.Messages))
	if call.Wire {
		for i, m := range call.Messages {
			out[i] = m
		}
		return out, nil
	}
	parsed, err := d.messages(md, call.Messages, false)
	if err != nil {
		return nil, err
	}
	for i, m := range parsed {
		b, err := marshalWire.Marshal(m)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// statusDetails parses grpc-status-details-bin (a google.rpc.Status in
// wire bytes) into its details; nil when absent or unreadable.
func statusDetails(wire []byte) []*anypb.Any {
	if len(wire) == 0 {
		return nil
	}
	var st spb.Status
	if proto.Unmarshal(wire, &st) != nil {
		return nil
	}
	return st.GetDetails()
}

// jsonHeader is the Content-Type of every RPC body, so that the JSON
// comparator and every rule apply.
func jsonHeader(h http.Header) http.Header {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return h
}

// Prepare readies an exchange for sending and comparing: PrepareRequest,
// then PrepareRecorded.
func (d *Descriptors) Prepare(ex *framework.Exchange) error {
	if err := d.PrepareRequest(ex); err != nil {
		return err
	}
	return d.PrepareRecorded(ex)
}

// PrepareRequest readies an exchange read from a recording for sending:
// it finds the method (an error when the descriptors lack it), fills the
// call's idempotency from the method's options, replaces the request body
// with its canonical protojson, and encodes the messages once in wire
// bytes. The recorded response is left as read (a run whose prod is live
// does not need it). HTTP exchanges are left alone.
func (d *Descriptors) PrepareRequest(ex *framework.Exchange) error {
	call := ex.Request.RPC
	if call == nil {
		return nil
	}
	if d == nil {
		return errors.New("no descriptors: add a grpc block to the spec (protos, descriptorSet or reflection)")
	}
	md, err := d.Method(call.Method)
	if err != nil {
		return err
	}
	call.NoSideEffects, call.Idempotent = Idempotency(md)
	// The messages are sent in wire bytes: encoded once here, not for
	// each target and attempt; straight from their protojson when
	// appendJSONWire can, else through dynamic messages.
	wire := make([][]byte, len(call.Messages))
	fast := !call.Wire
	for i, m := range call.Messages {
		if !fast {
			break
		}
		wire[i], fast = d.appendJSONWire(nil, md.Input(), m)
	}
	if !fast {
		in, err := d.messages(md.Input(), call.Messages, call.Wire)
		if err != nil {
			return fmt.Errorf("request %w", err)
		}
		if !md.IsStreamingClient() && len(in) != 1 {
			return fmt.Errorf("request: %s takes one message, %d were recorded", md.FullName(), len(in))
		}
		for i, m := range in {
			if wire[i], err = marshalWire.Marshal(m); err != nil {
				return fmt.Errorf("request message %d: %w", i+1, err)
			}
		}
	}
	if !md.IsStreamingClient() && len(wire) != 1 {
		return fmt.Errorf("request: %s takes one message, %d were recorded", md.FullName(), len(wire))
	}
	if ex.Request.Body, err = d.WireBody(md.Input(), wire, md.IsStreamingClient()); err != nil {
		return err
	}
	call.Messages, call.Wire = wire, true
	return nil
}

// PrepareRecorded replaces the recorded response of an RPC exchange with
// the representation a live answer has: status 200, Content-Type
// application/json, the canonical protojson of its messages (or the
// google.rpc.Status of a code other than OK). Exchanges without a
// recorded RPC response are left alone.
func (d *Descriptors) PrepareRecorded(ex *framework.Exchange) error {
	r := ex.Recorded
	if ex.Request.RPC == nil || r == nil || r.RPC == nil {
		return nil
	}
	md, err := d.Method(ex.Request.RPC.Method)
	if err != nil {
		return err
	}
	return d.prepareResponse(md, r)
}

// prepareResponse sets a recorded RPC response's canonical body.
func (d *Descriptors) prepareResponse(md protoreflect.MethodDescriptor, r *framework.Response) error {
	r.Status = http.StatusOK
	r.Header = jsonHeader(r.Header.Clone())
	if r.RPC.Code != 0 {
		r.Body = d.StatusBody(r.RPC.Code, r.RPC.Message, statusDetails(r.RPC.Details))
		return nil
	}
	if r.RPC.Wire {
		body, err := d.WireBody(md.Output(), r.RPC.Messages, md.IsStreamingServer())
		var notDecoded *decodeError
		if errors.As(err, &notDecoded) {
			return fmt.Errorf("response %w", err)
		}
		if err != nil {
			return err
		}
		if !md.IsStreamingServer() && len(r.RPC.Messages) != 1 {
			return fmt.Errorf("response: %s is unary but %d messages were recorded with code OK", md.FullName(), len(r.RPC.Messages))
		}
		r.Body = body
		return nil
	}
	out, err := d.messages(md.Output(), r.RPC.Messages, r.RPC.Wire)
	if err != nil {
		return fmt.Errorf("response %w", err)
	}
	if !md.IsStreamingServer() && len(out) != 1 {
		return fmt.Errorf("response: %s is unary but %d messages were recorded with code OK", md.FullName(), len(out))
	}
	r.Body, err = d.Body(out, md.IsStreamingServer())
	return err
}
