package natsnode

import (
	"log/slog"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/metric"
)

// Storage values of JetStreamConfig.Store.
const (
	// StoreFile keeps JetStream data on disk under JetStreamConfig.Dir.
	StoreFile = "file"
	// StoreMemory keeps JetStream data in memory only: it is lost when the
	// process (or, for replicated buckets, every replica) stops.
	StoreMemory = "memory"
)

// DefaultMaxPayload is the largest message NATS carries unless told
// otherwise: nats-server's own default, 1 MiB.
const DefaultMaxPayload = 1 << 20

// maxPayloadLimit is nats-server's hard ceiling (MAX_PAYLOAD_MAX_SIZE).
const maxPayloadLimit = 64 << 20

// Config says which NATS a node uses and how. The zero value is valid: an
// embedded server with JetStream in memory, no client port, no cluster.
//
// With URL empty the node runs an embedded nats-server in this process and
// connects to it in-process; Listen, ServerName, JetStream.Dir and Cluster
// configure that server. With URL set the node connects to an external
// NATS; the credentials and TLS fields configure that connection. A field
// of the other mode is an error, so a setting never silently does nothing.
type Config struct {
	// URL lists the external NATS servers, comma-separated
	// ("nats://n1:4222,nats://n2:4222"); "" runs the embedded server.
	URL string
	// Name is the connection's name, shown by the server's monitoring
	// (connz); typically the service's name.
	Name string

	// Token authenticates to an external NATS by token.
	Token string
	// User and Password authenticate to an external NATS by user name and
	// password; set both or neither.
	User, Password string
	// NkeySeed is a user NKey seed ("SU..."), or the contents of a file
	// holding one, to authenticate by NKey.
	NkeySeed string
	// Creds is the contents of a .creds file (a user JWT and its NKey seed)
	// to authenticate to a NATS in operator (JWT) mode.
	Creds string
	// TLS configures TLS to an external NATS.
	TLS TLSConfig

	// MaxPayload is the largest message, headers included, in bytes; 0
	// means DefaultMaxPayload. The embedded server enforces it; with an
	// external NATS the server's own limit applies too, and
	// Node.MaxPayload reports the smaller.
	MaxPayload int64

	// Listen opens a client port on the embedded server, for tools such as
	// the nats CLI: a loopback host:port, since the embedded server
	// authenticates no one. "" opens none; the service connects in-process.
	Listen string
	// ServerName names the embedded server. JetStream in a cluster knows its
	// peers by name, so it must be unique in the cluster and stable across
	// restarts; "" means the host name and the route port
	// ("web-1-6222") in a cluster with a fixed route port, the server's
	// random ID otherwise.
	ServerName string
	// JetStream configures the JetStream storage of buckets Troupe creates.
	JetStream JetStreamConfig
	// Cluster joins embedded servers into one NATS cluster over routes.
	Cluster ClusterConfig

	// Logger receives the node's and the embedded server's logs; nil means
	// slog.Default().
	Logger *slog.Logger
	// MeterProvider receives the connection's metrics; nil records none.
	MeterProvider metric.MeterProvider
}

// TLSConfig configures TLS to an external NATS. Setting a file, or a
// tls:// or wss:// server URL, requires TLS: a server that does not offer
// it is refused.
type TLSConfig struct {
	// CAFile is a PEM bundle of the authorities that sign the server's
	// certificate; "" trusts the system's roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and its key, for
	// servers that verify clients; set both or neither.
	CertFile, KeyFile string
	// MinVersion is the oldest TLS version accepted when TLS is used:
	// "1.2" (the default when "") or "1.3".
	MinVersion string
}

// files reports whether any TLS file is set.
func (t TLSConfig) files() bool {
	return t.CAFile != "" || t.CertFile != "" || t.KeyFile != ""
}

// requiresTLS reports whether the connection must use TLS: a TLS file is
// set or a server URL's scheme says so.
func (c Config) requiresTLS() bool {
	if c.TLS.files() {
		return true
	}
	for raw := range strings.SplitSeq(c.URL, ",") {
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && (u.Scheme == "tls" || u.Scheme == "wss") {
			return true
		}
	}
	return false
}

// JetStreamConfig configures JetStream storage.
type JetStreamConfig struct {
	// Store is where buckets Troupe creates keep their data: StoreFile or
	// StoreMemory; "" means StoreMemory when Dir is "" and StoreFile
	// otherwise.
	Store string
	// Dir is the embedded server's data directory (created if missing);
	// JetStream keeps its files in Dir/jetstream. Required for StoreFile
	// with the embedded server. With StoreMemory and no Dir the server's
	// metadata goes to a temporary directory removed by Close.
	Dir string
	// Replicas is how many copies of each bucket Troupe creates a cluster
	// keeps, 1 to 5; 0 means automatic: up to 3 for an embedded cluster,
	// one per node it lists (Node.Replicas), else 1.
	Replicas int
}

// ClusterConfig joins embedded servers into one cluster: each listens for
// routes on Listen and dials Routes. Clustered JetStream needs its peers
// from the start, so list every node in Routes (a node's own route is
// recognised and ignored).
type ClusterConfig struct {
	// Listen is the host:port the embedded server accepts routes on; ""
	// means no cluster. Routes carry every message between nodes: put the
	// port on a private network, and set User and Password.
	Listen string
	// Routes are the other nodes' route URLs ("nats://10.0.0.2:6222").
	Routes []string
	// Name is the cluster's name, the same on every node; "" means
	// "troupe".
	Name string
	// User and Password, when set, are required of every route, and sent
	// on the routes this node dials; set both or neither, the same on
	// every node.
	User, Password string
}

// enabled reports whether the embedded server is clustered.
func (c ClusterConfig) enabled() bool { return c.Listen != "" }

// embedded reports whether c runs the embedded server.
func (c Config) embedded() bool { return c.URL == "" }

// store returns the effective JetStream store.
func (c Config) store() string {
	switch {
	case c.JetStream.Store != "":
		return c.JetStream.Store
	case c.JetStream.Dir != "" && c.embedded():
		return StoreFile
	case c.embedded():
		return StoreMemory
	}
	return StoreFile
}

// maxPayload returns the effective MaxPayload.
func (c Config) maxPayload() int64 {
	if c.MaxPayload == 0 {
		return DefaultMaxPayload
	}
	return c.MaxPayload
}

// logger returns the logger to use.
func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}
