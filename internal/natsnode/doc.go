// Package natsnode gives one service process its NATS: an embedded
// nats-server/v2 running in the process, alone or clustered with the
// embedded servers of other processes over routes, or a connection to an
// external NATS. Either way the rest of Troupe sees one *nats.Conn and a
// JetStream context (Node.Conn, Node.JetStream), so moving a service from
// embedded to external NATS is a change of config, not of code. The
// package knows nothing about actors; the actor runtime takes the
// connection from it.
//
// # Embedded
//
// With Config.URL empty, Start runs nats-server in the process: loopback
// only, JetStream on (files under JetStreamConfig.Dir, or in memory), and
// no client port — the node connects through nats.InProcessServer, a pipe,
// so nothing listens unless Config.Listen opens a loopback port for tools.
// With ClusterConfig.Listen the server accepts routes there and dials
// ClusterConfig.Routes: three processes that list each other form a
// three-node NATS cluster with replicated JetStream and no NATS to
// install. (A clustered server does listen for clients, on a random
// loopback port locked with a token only this process knows, because
// nats-server starts routing only once its client listener is up.)
// Clustered JetStream elects its meta leader among the peers it
// was configured with, so every node must list the routes from the start
// (a node recognises its own route and skips it).
//
// nats-server is a library that behaves like a program: its logger exits
// the process on a fatal error and it installs signal handlers. Here its
// logs go through slog (serverLog), a fatal error becomes Start's error,
// and NoSigs leaves signals to the service.
//
// # External
//
// With Config.URL set, the node connects with a token, a user and
// password, an NKey seed or a .creds file, over TLS when a TLS file is set
// or a server URL is tls://. Loading fails closed: a CA bundle or certificate that cannot be read
// is an error naming the field, never a fallback to weaker settings.
//
// # Failure semantics
//
// The connection reconnects forever with jittered exponential backoff
// (100 ms doubling to 5 s), the first connect included, so a service can
// start while NATS is down. While it is down nothing is buffered: a
// publish fails at once with an error IsUnavailable recognises, since a
// sender told "sent" of a message queued in memory would lose it in a
// crash. Node.Check is the readiness check (an error matching
// ErrUnavailable while disconnected); the service decides whether it fails
// readiness or warns. Close drains the connection within its context's
// deadline, then stops the embedded server and waits for it.
//
// # Metrics
//
// With Config.MeterProvider the node reports its connection state, round
// trip time, reconnects, traffic, asynchronous errors and, for an embedded
// cluster, its routes (names in internal/telemetry, documented in
// docs/observability.md). They are read from the connection at collection,
// so the message path records nothing.
package natsnode
