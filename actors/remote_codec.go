package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/problem"
)

// contentType is how a message's payload is encoded on the wire.
type contentType uint8

const (
	contentJSON     contentType = 1 // application/json
	contentProtobuf contentType = 2 // application/protobuf
	contentBytes    contentType = 3 // application/octet-stream: a []byte as is
	contentText     contentType = 4 // text/plain; charset=utf-8: a string as is
)

// codec turns values of one registered Go type into bytes and back.
type codec struct {
	name    string
	typ     reflect.Type
	content contentType
	// encode appends v's encoding to dst.
	encode func(dst []byte, v any) ([]byte, error)
	decode func(data []byte) (any, error)
}

// registry maps Go types and wire names to codecs. Reads are a map lookup
// behind an atomic pointer, with no lock: every remote send and receipt
// makes one. Registration copies the maps; it happens at init.
type registry struct {
	mu     sync.Mutex
	byType atomic.Pointer[map[reflect.Type]*codec]
	byName atomic.Pointer[map[string]*codec]
	// problem is *problem.Error's codec, which also carries problems
	// returned as errors.
	problem *codec
}

var wireTypes = newRegistry()

// builtinPrefix starts the names of the types the runtime registers
// itself; applications may not use it.
const builtinPrefix = "troupe."

func newRegistry() *registry {
	r := &registry{}
	r.byType.Store(&map[reflect.Type]*codec{})
	r.byName.Store(&map[string]*codec{})
	r.add(rawCodec[string]("troupe.string", contentText))
	r.add(rawCodec[[]byte]("troupe.bytes", contentBytes))
	r.add(jsonCodec[bool]("troupe.bool"))
	r.add(jsonCodec[int]("troupe.int"))
	r.add(jsonCodec[int64]("troupe.int64"))
	r.add(jsonCodec[uint64]("troupe.uint64"))
	r.add(jsonCodec[float64]("troupe.float64"))
	r.add(jsonCodec[*HTTPRequest]("troupe.http.request"))
	r.add(jsonCodec[*HTTPResponse]("troupe.http.response"))
	r.problem = problemCodec()
	r.add(r.problem)
	r.add(jsonCodec[*RemoteError]("troupe.remote_error"))
	return r
}

// RegisterMessage names the Go type T for the wire, so values of exactly
// that type can be sent to actors on other nodes and published across the
// cluster. Every node that sends or receives T registers it under the same
// name, usually in an init function. The name is the contract between
// nodes: keep it when the Go type is renamed or moved, and change it when
// the encoding stops being compatible.
//
// T is encoded as protobuf when it implements proto.Message (a pointer to
// a generated message), and as JSON otherwise (exported fields, as
// encoding/json does). T and *T are distinct types: register the one you
// send. Registering a type or a name twice with different partners, a name
// that is empty, longer than 255 bytes or starting with "troupe.", panics:
// it is a programming error found at start-up.
func RegisterMessage[T any](name string) {
	if err := checkWireName(name); err != nil {
		panic(err)
	}
	var c *codec
	if reflect.TypeFor[T]().Implements(reflect.TypeFor[proto.Message]()) {
		c = protoCodec[T](name)
	} else {
		c = jsonCodec[T](name)
	}
	if err := wireTypes.add(c); err != nil {
		panic(err)
	}
}

func checkWireName(name string) error {
	switch {
	case name == "":
		return errors.New("actors: RegisterMessage: empty name")
	case len(name) > 255:
		return fmt.Errorf("actors: RegisterMessage: name %.32q... is longer than 255 bytes", name)
	case strings.HasPrefix(name, builtinPrefix):
		return fmt.Errorf("actors: RegisterMessage: name %q uses the reserved prefix %q", name, builtinPrefix)
	}
	return nil
}

// add registers c; the same type under the same name again is a no-op.
func (r *registry) add(c *codec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	byType, byName := *r.byType.Load(), *r.byName.Load()
	if prev, ok := byType[c.typ]; ok {
		if prev.name == c.name {
			return nil
		}
		return fmt.Errorf("actors: RegisterMessage: %s is already registered as %q, not %q", c.typ, prev.name, c.name)
	}
	if prev, ok := byName[c.name]; ok {
		return fmt.Errorf("actors: RegisterMessage: name %q is already taken by %s, not %s", c.name, prev.typ, c.typ)
	}
	nt := make(map[reflect.Type]*codec, len(byType)+1)
	for k, v := range byType {
		nt[k] = v
	}
	nt[c.typ] = c
	nn := make(map[string]*codec, len(byName)+1)
	for k, v := range byName {
		nn[k] = v
	}
	nn[c.name] = c
	r.byType.Store(&nt)
	r.byName.Store(&nn)
	return nil
}

// forValue returns the codec of v's dynamic type, or an
// *UnregisteredTypeError.
func (r *registry) forValue(v any) (*codec, error) {
	t := reflect.TypeOf(v)
	if c, ok := (*r.byType.Load())[t]; ok {
		return c, nil
	}
	return nil, &UnregisteredTypeError{Type: typeName(t)}
}

// forName returns the codec registered as name, or nil.
func (r *registry) forName(name []byte) *codec {
	return (*r.byName.Load())[string(name)]
}

func jsonCodec[T any](name string) *codec {
	return &codec{
		name: name, typ: reflect.TypeFor[T](), content: contentJSON,
		encode: func(dst []byte, v any) ([]byte, error) {
			b, err := json.Marshal(v)
			return append(dst, b...), err
		},
		decode: func(data []byte) (any, error) {
			var v T
			err := json.Unmarshal(data, &v)
			return v, err
		},
	}
}

func protoCodec[T any](name string) *codec {
	typ := reflect.TypeFor[T]()
	return &codec{
		name: name, typ: typ, content: contentProtobuf,
		encode: func(dst []byte, v any) ([]byte, error) {
			return proto.MarshalOptions{}.MarshalAppend(dst, v.(proto.Message))
		},
		decode: func(data []byte) (any, error) {
			m := reflect.New(typ.Elem()).Interface().(proto.Message)
			return m, proto.Unmarshal(data, m)
		},
	}
}

// rawCodec carries a string or a []byte as its bytes: no encoding at all.
func rawCodec[T string | []byte](name string, ct contentType) *codec {
	return &codec{
		name: name, typ: reflect.TypeFor[T](), content: ct,
		encode: func(dst []byte, v any) ([]byte, error) { return append(dst, v.(T)...), nil },
		decode: func(data []byte) (any, error) { return T(data), nil },
	}
}

// wireProblem is what of a *problem.Error crosses the wire: the details
// and header the client will see. Its cause (Err) is for the replier's
// logs only.
type wireProblem struct {
	problem.Details
	Header http.Header `json:"header,omitempty"`
}

func problemCodec() *codec {
	return &codec{
		name: "troupe.problem", typ: reflect.TypeFor[*problem.Error](), content: contentJSON,
		encode: func(dst []byte, v any) ([]byte, error) {
			p := v.(*problem.Error)
			b, err := json.Marshal(wireProblem{Details: p.Details, Header: p.Header})
			return append(dst, b...), err
		},
		decode: func(data []byte) (any, error) {
			var w wireProblem
			if err := json.Unmarshal(data, &w); err != nil {
				return nil, err
			}
			return &problem.Error{Details: w.Details, Header: w.Header}, nil
		},
	}
}
