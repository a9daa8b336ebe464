// Package wstest reads WebSocket connections in tests: the frames of one
// type, and the close code a server sent. Its bounds only turn a hang into
// a failure.
package wstest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// ReadType reads JSON messages until one whose "type" is typ, failing the
// test after 10 s or when the connection ends first.
func ReadType(t testing.TB, c *websocket.Conn, typ string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil && m["type"] == typ {
			return m
		}
	}
}

// CloseStatus reads until c closes and returns the close code the server
// sent, failing the test when it has not closed within 15 s.
func CloseStatus(t testing.TB, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the connection did not close")
			}
			return websocket.CloseStatus(err)
		}
	}
}
