// Command fetcher is a WASM component that fetches the URL in each message
// and replies with the response status and the first bytes of its body,
// e.g. "200 <!doctype html>...".
package main

import (
	"strconv"
	"time"

	"github.com/troupehq/troupe/actors/guest"
)

// preview is how many body bytes the reply carries.
const preview = 64

func init() {
	guest.Handle(fetch)
}

func fetch(_ guest.Context, msg []byte) ([]byte, error) {
	resp, err := guest.Fetch(&guest.FetchRequest{URL: string(msg), Timeout: 3 * time.Second})
	if err != nil {
		return nil, err
	}
	body := resp.Body[:min(len(resp.Body), preview)]
	out := strconv.AppendInt(nil, int64(resp.Status), 10)
	out = append(out, ' ')
	return append(out, body...), nil
}

// main is empty: a component is a reactor, driven by the host through the
// handlers registered in init.
func main() {}
