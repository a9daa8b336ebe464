package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/realtime"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/versioning"
)

// The Troupe server's routes: /api/v1/echo sends every message to the
// actor "echo", which sends it back; /api/v1/room joins room "bench".
const (
	troupeEcho = "/api/v1/echo"
	troupeRoom = "/api/v1/room"
	benchRoom  = "bench"
)

// troupeSettings are the service's settings beyond the defaults: JWT on
// every connection, Cedar deciding connect and join, memory rate limits by
// IP and principal far above what one machine can generate (so they are
// decided on every upgrade and refuse none), and connection limits that let
// 15,000 connections of one source address in.
func troupeSettings(policy string) []string {
	return []string{
		"HTTP__ADDRESS=127.0.0.1:0", "ADMIN__ADDRESS=127.0.0.1:0", "HTTP__DRAIN_DELAY=0s",
		"AUTH__JWT__HMAC_SECRET=" + jwtSecret, "AUTH__JWT__ISSUER=" + jwtIssuer, "AUTH__JWT__AUDIENCE=" + jwtAudience,
		"AUTH__CEDAR__POLICIES=" + policy,
		"RATE_LIMIT__ENABLED=true", "RATE_LIMIT__STORE=memory",
		"RATE_LIMIT__PER_IP_RPM=60000000", "RATE_LIMIT__PER_USER_RPM=60000000", "RATE_LIMIT__PER_CLIENT_RPM=60000000",
		"REALTIME__MAX_CONNECTIONS=20000", "REALTIME__MAX_CONNECTIONS_PER_PRINCIPAL=20000",
		"REALTIME__INBOUND_RATE=1000", "REALTIME__OUTBOUND_QUEUE=1024",
	}
}

// echoActor sends every message back to the connection it came from.
type echoActor struct{}

func (echoActor) Receive(c *actors.Context, msg any) {
	if m, ok := msg.(*realtime.Received); ok {
		_ = c.Send(m.Conn, m.Data)
	}
}

// startTroupe runs a Troupe service with the two realtime routes behind
// its whole chain, its logs formatted and discarded.
func startTroupe() (*server, error) {
	dir, err := os.MkdirTemp("", "troupe-realtime-bench-*")
	if err != nil {
		return nil, err
	}
	policy := filepath.Join(dir, "policy.cedar")
	if err := os.WriteFile(policy, []byte("permit (principal, action, resource);\n"), 0o600); err != nil {
		return nil, err
	}
	environ := []string{}
	for _, kv := range troupeSettings(policy) {
		environ = append(environ, config.EnvPrefix("rtbench")+kv)
	}
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.WS("/echo", realtime.Handler(realtime.Endpoint{Handler: "echo", Raw: true}))
		g.WS("/room", realtime.Handler(realtime.Endpoint{Rooms: []string{benchRoom}}))
	})
	svc, err := service.New("rtbench", service.WithAPI(api), service.WithLogOutput(io.Discard),
		service.WithActor("echo", func() actors.Actor { return echoActor{} }),
		service.WithConfigLoader(config.Loader{Environ: environ, ConfigDirs: []string{}, ConfigHome: dir, WorkDir: dir}))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Started():
	case err := <-done:
		cancel()
		return nil, err
	case <-time.After(10 * time.Second):
		cancel()
		return nil, errors.New("troupe: not started after 10s")
	}
	stop := func() error {
		cancel()
		defer os.RemoveAll(dir)
		return <-done
	}
	hub := svc.Realtime()
	return &server{
		hello:   hello{Base: "ws://" + svc.Addr().String(), EchoPath: troupeEcho, RoomPath: troupeRoom},
		conns:   hub.Connections,
		publish: func(data []byte) error { return hub.Publish(benchRoom, data) },
		stop:    stop,
	}, nil
}
