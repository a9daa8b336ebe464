package natsnode

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/troupehq/troupe/internal/fielderr"
)

// readyPoll is how often startEmbedded checks whether the server is ready.
// ReadyForConnections sleeps in 25 ms steps only for waits longer than
// 25 ms, so a shorter poll would spin.
const readyPoll = 50 * time.Millisecond

// defaultClusterName names a cluster whose Cluster.Name is "".
const defaultClusterName = "troupe"

// embedded is a running embedded server and what Close must clean up.
type embedded struct {
	srv    *server.Server
	log    *serverLog
	tmpDir string // removed at shutdown; "" when the store dir is the user's
	token  string // what the in-process client must present; "" for none
}

// startEmbedded starts nats-server in this process with the options of c
// and waits until it accepts clients, ctx ends, or the server reports a
// fatal error (a listener or JetStream that cannot start).
func startEmbedded(ctx context.Context, c Config, log *serverLog) (*embedded, error) {
	e := &embedded{log: log}
	dir := c.JetStream.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "troupe-nats-")
		if err != nil {
			return nil, fmt.Errorf("natsnode: a temporary directory for JetStream: %w", err)
		}
		dir, e.tmpDir = tmp, tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fielderr.New("JetStream.Dir", "%v", err)
	}
	opts, err := serverOptions(c, dir)
	if err != nil {
		e.removeTmp()
		return nil, err
	}
	e.token = opts.Authorization
	srv, err := server.NewServer(opts)
	if err != nil {
		e.removeTmp()
		return nil, fmt.Errorf("natsnode: embedded server: %w", err)
	}
	e.srv = srv
	srv.SetLoggerV2(log, log.logger.Enabled(ctx, slog.LevelDebug), false, false)
	go srv.Start()
	if err := e.waitReady(ctx, c, log); err != nil {
		e.shutdown()
		return nil, err
	}
	log.running.Store(true)
	return e, nil
}

// waitReady waits until the server accepts clients (and routes, when
// clustered). A fatal error names the listener's field when the listener
// is what failed (nats-server says so only in its message).
func (e *embedded) waitReady(ctx context.Context, c Config, log *serverLog) error {
	for !e.srv.ReadyForConnections(readyPoll) {
		select {
		case <-log.died:
			err := log.err()
			switch msg := err.Error(); {
			case strings.Contains(msg, "router port") && e.srv.ClusterAddr() == nil:
				return fielderr.New("Cluster.Listen", "%v", err)
			case strings.Contains(msg, "listening on port") && e.srv.Addr() == nil:
				return fielderr.New("Listen", "%v", err)
			}
			return fmt.Errorf("natsnode: embedded server: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("natsnode: embedded server not ready: %w", ctx.Err())
		default:
		}
	}
	// JetStream starts before the server is ready; a fatal error there
	// still lets the server become ready, without JetStream.
	if err := log.err(); err != nil {
		return fmt.Errorf("natsnode: embedded server: %w", err)
	}
	return nil
}

// shutdown stops the server, waits for it, and removes a temporary store.
func (e *embedded) shutdown() {
	e.log.running.Store(false)
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	e.removeTmp()
}

func (e *embedded) removeTmp() {
	if e.tmpDir != "" {
		_ = os.RemoveAll(e.tmpDir)
	}
}

// serverOptions translates c into nats-server options: loopback, no client
// port unless Listen or clustered, no signal handlers, JetStream in dir,
// routes when clustered.
func serverOptions(c Config, dir string) (*server.Options, error) {
	opts := &server.Options{
		ServerName:             c.ServerName,
		Host:                   "127.0.0.1",
		DontListen:             c.Listen == "",
		NoSigs:                 true,
		MaxPayload:             int32(c.maxPayload()),
		JetStream:              true,
		StoreDir:               dir,
		DisableJetStreamBanner: true,
	}
	if c.Listen != "" {
		host, port, _ := splitHostPort(c.Listen)
		opts.Host, opts.Port = host, portOrRandom(port)
	}
	if !c.Cluster.enabled() {
		return opts, nil
	}
	host, port, _ := splitHostPort(c.Cluster.Listen)
	name := c.Cluster.Name
	if name == "" {
		name = defaultClusterName
	}
	opts.Cluster = server.ClusterOpts{
		Name: name, Host: host, Port: portOrRandom(port),
		Username: c.Cluster.User, Password: c.Cluster.Password,
	}
	if opts.ServerName == "" && port != 0 {
		opts.ServerName = defaultServerName(port)
	}
	routes, err := c.Cluster.routeURLs()
	if err != nil {
		return nil, err
	}
	opts.Routes = routes
	if c.Listen == "" {
		// nats-server starts routing only once its client listener is up
		// (Server.StartRouting waits for it), so a clustered server needs
		// one: a random loopback port, locked with a random token that
		// only the in-process client knows. Not advertised to clients.
		opts.DontListen, opts.Port = false, server.RANDOM_PORT
		opts.Authorization = rand.Text()
		opts.Cluster.NoAdvertise = true
	}
	return opts, nil
}

// routeURLs parses the routes, adding the cluster's credentials to those
// that carry none.
func (c ClusterConfig) routeURLs() ([]*url.URL, error) {
	var routes []*url.URL
	for i, r := range c.Routes {
		u, err := parseRoute(r)
		if err != nil {
			return nil, fielderr.New("Cluster.Routes", "route %d: %v", i+1, err)
		}
		if u.User == nil && c.User != "" {
			u.User = url.UserPassword(c.User, c.Password)
		}
		routes = append(routes, u)
	}
	return routes, nil
}

// portOrRandom maps port 0 (any free port) to nats-server's -1.
func portOrRandom(port int) int {
	if port == 0 {
		return server.RANDOM_PORT
	}
	return port
}

// defaultServerName is the host name and the route port: unique for
// nodes on one host (distinct ports) and across hosts (distinct names),
// and stable across restarts, as JetStream's peer identity must be.
func defaultServerName(port int) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "troupe"
	}
	return host + "-" + strconv.Itoa(port)
}

// size counts the cluster's nodes from the config: the distinct routes
// that are not this node's own, plus this node. A route is taken to be
// this node's own when it has the listen address, or its port and a
// loopback host while this node listens on loopback or on every address.
func (c ClusterConfig) size() int {
	host, port, _ := splitHostPort(c.Listen)
	local := host == "" || host == "localhost" || isLoopbackOrUnspecified(host)
	others := map[string]bool{}
	for _, r := range c.Routes {
		u, err := parseRoute(r)
		if err != nil {
			continue
		}
		rport, _ := strconv.Atoi(u.Port())
		rhost := strings.ToLower(u.Hostname())
		self := rport == port && (rhost == strings.ToLower(host) ||
			local && (rhost == "localhost" || isLoopbackOrUnspecified(rhost)))
		if !self {
			others[net.JoinHostPort(rhost, u.Port())] = true
		}
	}
	return len(others) + 1
}

// isLoopbackOrUnspecified reports whether host is an IP on loopback or
// the unspecified address (0.0.0.0, ::).
func isLoopbackOrUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}
