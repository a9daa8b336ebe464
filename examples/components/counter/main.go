// Command counter is a WASM component that keeps a counter in KV. The
// message "inc" increments it and "get" reads it; both reply with the count
// in decimal.
package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/troupehq/troupe/actors/guest"
)

const (
	namespace = "counter"
	key       = "count"
)

func init() {
	guest.Handle(handle)
}

func handle(_ guest.Context, msg []byte) ([]byte, error) {
	n, err := load()
	if err != nil {
		return nil, err
	}
	switch string(msg) {
	case "get":
	case "inc":
		n++
		if err := guest.KVPut(namespace, key, strconv.AppendInt(nil, n, 10)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown command %q: send inc or get", msg)
	}
	return strconv.AppendInt(nil, n, 10), nil
}

// load reads the count; a count never stored is zero.
func load() (int64, error) {
	v, err := guest.KVGet(namespace, key)
	if errors.Is(err, guest.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stored count %q is not a number: %w", v, err)
	}
	return n, nil
}

// main is empty: a component is a reactor, driven by the host through the
// handlers registered in init.
func main() {}
