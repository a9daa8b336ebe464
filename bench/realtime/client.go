package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// clients opens connections to one server: from several source
// addresses, each connection with a token of its own.
type clients struct {
	kind   string
	srv    hello
	https  []*http.Client // one per source address
	tokens []string
}

// newClients prepares one HTTP client per source address 127.0.0.2,
// 127.0.0.3, ...: each address has its own ~28,000 ephemeral ports towards
// the server's one port. Connection i uses tokens[i].
func newClients(kind string, srv hello, tokens []string, sources int) *clients {
	c := &clients{kind: kind, srv: srv, tokens: tokens}
	for i := range sources {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}, Timeout: 30 * time.Second}
		c.https = append(c.https, &http.Client{Transport: &http.Transport{DialContext: d.DialContext}})
	}
	return c
}

// conn is one client connection.
type conn struct {
	ws   *websocket.Conn
	kind string
	ids  atomic.Int64 // centrifuge command IDs
}

// dial opens connection i, to the room or the echo endpoint, and returns
// once the server has answered its first message: Troupe's "joined" for a
// room; centrifuge's reply to connect (and to subscribe, for a room). Both
// are one server frame after the handshake, so an upgrade costs the same
// round trips on both.
func (c *clients) dial(ctx context.Context, i int, room bool) (*conn, error) {
	path := c.srv.EchoPath
	if room {
		path = c.srv.RoomPath
	}
	ws, _, err := websocket.Dial(ctx, c.srv.Base+path, &websocket.DialOptions{
		HTTPClient: c.https[i%len(c.https)],
		HTTPHeader: http.Header{"Authorization": {c.tokens[i]}},
	})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	cn := &conn{ws: ws, kind: c.kind}
	cn.ids.Store(2)
	if err := cn.handshake(ctx, room); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	return cn, nil
}

func (cn *conn) handshake(ctx context.Context, room bool) error {
	if cn.kind == "troupe" {
		if room {
			return cn.await(ctx, `"type":"joined"`)
		}
		return nil
	}
	if err := cn.ws.Write(ctx, websocket.MessageText, []byte(`{"id":1,"connect":{}}`)); err != nil {
		return err
	}
	if err := cn.await(ctx, `"id":1,`); err != nil || !room {
		return err
	}
	if err := cn.ws.Write(ctx, websocket.MessageText, []byte(`{"id":2,"subscribe":{"channel":"`+benchRoom+`"}}`)); err != nil {
		return err
	}
	return cn.await(ctx, `"id":2,`)
}

// await reads until a message containing want; an error reply fails it.
func (cn *conn) await(ctx context.Context, want string) error {
	for {
		_, b, err := cn.ws.Read(ctx)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(want)) {
			if bytes.Contains(b, []byte(`"error"`)) {
				return fmt.Errorf("%s", b)
			}
			return nil
		}
	}
}

// echo sends a message stamped with t, which the server sends back.
func (cn *conn) echo(ctx context.Context, t time.Time) error {
	msg := stamp(t)
	if cn.kind == "centrifuge" {
		id := strconv.FormatInt(cn.ids.Add(1), 10)
		msg = append(append([]byte(`{"id":`+id+`,"rpc":{"data":`), msg...), "}}"...)
	}
	return cn.ws.Write(ctx, websocket.MessageText, msg)
}

// read reads until the connection ends, calling got with the stamp of each
// stamped message and the time it arrived. It answers centrifuge's
// protocol pings ("{}"); Troupe's are WebSocket pings, which the library
// answers while reading. Centrifuge may batch replies in one message,
// separated by newlines.
func (cn *conn) read(got func(ts int64, at time.Time)) {
	for {
		_, b, err := cn.ws.Read(context.Background())
		if err != nil {
			return
		}
		at := time.Now()
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			if cn.kind == "centrifuge" && string(line) == "{}" {
				_ = cn.ws.Write(context.Background(), websocket.MessageText, []byte("{}"))
			} else if ts, ok := parseStamp(line); ok && got != nil {
				got(ts, at)
			}
		}
	}
}

// parseStamp finds "ts":<digits> in b.
func parseStamp(b []byte) (int64, bool) {
	i := bytes.Index(b, []byte(`"ts":`))
	if i < 0 {
		return 0, false
	}
	b = b[i+5:]
	j := 0
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	ts, err := strconv.ParseInt(string(b[:j]), 10, 64)
	return ts, err == nil
}
