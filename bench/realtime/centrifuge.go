package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/centrifugal/centrifuge"
)

// centrifugePath serves every connection of the centrifuge server; a
// client subscribes to channel benchRoom after connecting.
const centrifugePath = "/connection/websocket"

// startCentrifuge runs the smallest centrifuge server that does what the
// Troupe server does: the same JWT checked before the upgrade (centrifuge
// leaves authentication to the application), RPC as echo, subscriptions to
// any channel, server-side publication, and the same 1 KiB read buffer and
// pooled write buffers that Troupe's connections have. Centrifuge's own
// defaults are otherwise kept (memory broker, 25 s pings, no history).
func startCentrifuge() (*server, error) {
	node, err := centrifuge.New(centrifuge.Config{LogLevel: centrifuge.LogLevelNone})
	if err != nil {
		return nil, err
	}
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnRPC(func(e centrifuge.RPCEvent, cb centrifuge.RPCCallback) { cb(centrifuge.RPCReply{Data: e.Data}, nil) })
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return nil, err
	}
	ws := centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{ReadBufferSize: 1024, UseWriteBufferPool: true})
	mux := http.NewServeMux()
	mux.Handle(centrifugePath, authenticated(ws))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Close() // hijacked connections are the node's to close
		return node.Shutdown(ctx)
	}
	return &server{
		hello: hello{Base: "ws://" + ln.Addr().String(), EchoPath: centrifugePath, RoomPath: centrifugePath},
		conns: node.Hub().NumClients,
		publish: func(data []byte) error {
			_, err := node.Publish(benchRoom, data)
			return err
		},
		stop: stop,
	}, nil
}

// authenticated refuses a request without a valid token with 401 and
// hands the token's subject to centrifuge as the connection's user.
func authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub, err := verify(r.Header.Get("Authorization"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(centrifuge.SetCredentials(r.Context(), &centrifuge.Credentials{UserID: sub})))
	})
}
