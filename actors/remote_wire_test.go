package actors

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/troupehq/troupe/problem"
)

func init() {
	RegisterMessage[*wrapperspb.StringValue]("actors.test.proto_string")
}

// seedEnvelopes are valid envelopes of every shape, the fuzz target's
// seeds beside testdata/fuzz/FuzzDecodeEnvelope.
func seedEnvelopes() []wireMsg {
	return []wireMsg{
		{kind: kindSend, to: wireAddr{node: "n2", id: 7, name: "notes"}, typeName: "notes.create", content: contentJSON, payload: []byte(`{"title":"x"}`)},
		{kind: kindRequest, corr: 42, deadline: 1_700_000_000_000_000_000, from: wireAddr{node: "n1", id: 3},
			to: wireAddr{node: "n2", id: 9}, typeName: "troupe.string", content: contentText, payload: []byte("hi"),
			trace: []string{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate", "k=v"}},
		{kind: kindReply, corr: 42, from: wireAddr{node: "n2"}, errCode: errCodeRemote, errText: "boom"},
		{kind: kindPublish, from: wireAddr{node: "n3"}, to: wireAddr{name: "orders.created"}, typeName: "troupe.bytes", content: contentBytes, payload: []byte{0, 1, 2}},
		{kind: kindStop, to: wireAddr{name: "workers"}},
	}
}

func TestWireRoundTrip(t *testing.T) {
	for _, w := range seedEnvelopes() {
		var got wireMsg
		if err := decodeWire(appendWire(nil, &w), &got); err != nil {
			t.Fatalf("%+v: %v", w, err)
		}
		if !sameWire(&got, &w) {
			t.Fatalf("round trip of %+v gave %+v", w, got)
		}
	}
}

// sameWire compares envelopes, nil and empty slices alike.
func sameWire(a, b *wireMsg) bool {
	x, y := *a, *b
	x.payload, y.payload = nil, nil
	if len(x.trace) == 0 && len(y.trace) == 0 {
		x.trace, y.trace = nil, nil
	}
	return reflect.DeepEqual(x, y) && string(a.payload) == string(b.payload)
}

func TestWireRejects(t *testing.T) {
	valid := appendWire(nil, &seedEnvelopes()[1])
	cases := map[string]struct {
		data []byte
		want error
	}{
		"empty":           {nil, errWireMalformed},
		"version":         {append([]byte{9}, valid[1:]...), errWireVersion},
		"unknown kind":    {append([]byte{wireVersion, 99}, valid[2:]...), errWireMalformed},
		"truncated":       {valid[:20], errWireMalformed},
		"string too long": {append([]byte{wireVersion, byte(kindSend), 0, 0}, 0xff, 0xff, 0x03), errWireMalformed},
	}
	for name, tc := range cases {
		var w wireMsg
		if err := decodeWire(tc.data, &w); !errors.Is(err, tc.want) {
			t.Errorf("%s: decode = %v, want %v", name, err, tc.want)
		}
	}
}

// FuzzDecodeEnvelope: whatever arrives, the decoder returns an error or
// an envelope that encodes back to itself; it never panics or allocates
// beyond the input's bounds.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, w := range seedEnvelopes() {
		f.Add(appendWire(nil, &w))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var w wireMsg
		if err := decodeWire(data, &w); err != nil {
			if !errors.Is(err, errWireMalformed) && !errors.Is(err, errWireVersion) {
				t.Fatalf("decode error %v is neither malformed nor version", err)
			}
			return
		}
		var again wireMsg
		if err := decodeWire(appendWire(nil, &w), &again); err != nil {
			t.Fatalf("a decoded envelope does not decode once encoded: %v", err)
		}
		if !sameWire(&again, &w) {
			t.Fatalf("re-encoding changed the envelope: %+v vs %+v", again, w)
		}
	})
}

func TestCodecs(t *testing.T) {
	for _, v := range []any{
		"text", []byte("raw"), true, 42, int64(-7), uint64(9), 2.5,
		ping{N: 1, Text: "json"},
		wrapperspb.String("protobuf"),
		problem.NewError(404, "no such note"),
		&HTTPRequest{Method: "GET", Route: "/notes/:id", Params: map[string]string{"id": "1"}},
		&HTTPResponse{Status: 201, Body: []byte("{}")},
		&RemoteError{Node: "n1", Message: "boom"},
	} {
		cd, err := wireTypes.forValue(v)
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		b, err := cd.encode(nil, v)
		if err != nil {
			t.Fatalf("%T: encode: %v", v, err)
		}
		got, err := wireTypes.forName([]byte(cd.name)).decode(b)
		if err != nil {
			t.Fatalf("%T: decode: %v", v, err)
		}
		if m, ok := v.(proto.Message); ok {
			if !proto.Equal(m, got.(proto.Message)) || cd.content != contentProtobuf {
				t.Fatalf("protobuf %v came back as %v (content %d)", v, got, cd.content)
			}
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("%T %v came back as %T %v", v, v, got, got)
		}
	}
}

func TestRegisterMessageConflicts(t *testing.T) {
	type mine struct{}
	RegisterMessage[mine]("actors.test.mine")
	RegisterMessage[mine]("actors.test.mine") // the same pair again: fine
	for name, register := range map[string]func(){
		"type under a second name":  func() { RegisterMessage[mine]("actors.test.other") },
		"name for a second type":    func() { RegisterMessage[*mine]("actors.test.mine") },
		"reserved prefix":           func() { RegisterMessage[struct{ A int }]("troupe.mine") },
		"empty name":                func() { RegisterMessage[struct{ B int }]("") },
		"name longer than 255 byte": func() { RegisterMessage[struct{ C int }](strings.Repeat("n", 256)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: RegisterMessage did not panic", name)
				}
			}()
			register()
		}()
	}
	var ut *UnregisteredTypeError
	if _, err := wireTypes.forValue(&mine{}); !errors.As(err, &ut) || !strings.Contains(err.Error(), "RegisterMessage[*actors.mine]") {
		t.Fatalf("an unregistered pointer type = %v, want an error naming the fix", err)
	}
}
