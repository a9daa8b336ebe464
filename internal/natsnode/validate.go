package natsnode

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Validate reports every problem of c, each a *fielderr.Error naming the
// field: a malformed URL, listen address or route; a field of the other
// mode (credentials or TLS without URL, server or cluster settings with
// it); more than one kind of credentials; half a pair (User without
// Password, CertFile without KeyFile); a seed, .creds, CA or certificate
// that cannot be read or parsed; an unknown store or TLS version; a
// payload or replica count out of range. Errors never quote a secret.
func (c Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.embedded() {
		add(c.validateEmbedded())
	} else {
		add(c.validateExternal())
	}
	switch c.TLS.MinVersion {
	case "", "1.2", "1.3":
	default:
		add(fielderr.New("TLS.MinVersion", `must be "1.2" or "1.3", got %q`, c.TLS.MinVersion))
	}
	switch c.JetStream.Store {
	case "", StoreFile, StoreMemory:
	default:
		add(fielderr.New("JetStream.Store", `must be %q or %q, got %q`, StoreFile, StoreMemory, c.JetStream.Store))
	}
	if r := c.JetStream.Replicas; r < 0 || r > 5 {
		add(fielderr.New("JetStream.Replicas", "must be 0 (automatic) to 5, got %d", r))
	}
	if p := c.MaxPayload; p < 0 || p > maxPayloadLimit {
		add(fielderr.New("MaxPayload", "must be 0 (1 MiB) to 64 MiB (%d bytes), got %d", maxPayloadLimit, p))
	}
	return errors.Join(errs...)
}

// validateEmbedded checks the fields of the embedded server and refuses
// those of an external connection.
func (c Config) validateEmbedded() error {
	var errs []error
	for _, f := range []setField{
		{"Token", c.Token != ""}, {"User", c.User != ""}, {"Password", c.Password != ""},
		{"NkeySeed", c.NkeySeed != ""}, {"Creds", c.Creds != ""}, {"TLS", c.TLS.files()},
	} {
		if f.set {
			errs = append(errs, fielderr.New(f.name, "applies to an external NATS only; set URL, or remove it"))
		}
	}
	if c.Listen != "" {
		if err := loopbackAddress(c.Listen); err != nil {
			errs = append(errs, fielderr.New("Listen", "%v", err))
		}
	}
	if strings.ContainsAny(c.ServerName, " \t\r\n") {
		errs = append(errs, fielderr.New("ServerName", "must not contain spaces, got %q", c.ServerName))
	}
	if c.JetStream.Store == StoreFile && c.JetStream.Dir == "" {
		errs = append(errs, fielderr.New("JetStream.Dir", "required when JetStream.Store is %q", StoreFile))
	}
	errs = append(errs, fielderr.Prefix("Cluster", c.Cluster.validate()))
	return errors.Join(errs...)
}

// validate checks a cluster's listen address and routes.
func (c ClusterConfig) validate() error {
	var errs []error
	if c.Listen == "" {
		for _, f := range []setField{
			{"Routes", len(c.Routes) > 0}, {"Name", c.Name != ""}, {"User", c.User != ""}, {"Password", c.Password != ""},
		} {
			if f.set {
				errs = append(errs, fielderr.New(f.name, "needs Cluster.Listen: a node joins a cluster by listening for routes"))
			}
		}
		return errors.Join(errs...)
	}
	if _, _, err := splitHostPort(c.Listen); err != nil {
		errs = append(errs, fielderr.New("Listen", "%v", err))
	}
	if len(c.Routes) == 0 {
		// nats-server refuses clustered JetStream without them.
		errs = append(errs, fielderr.New("Routes", "required with Cluster.Listen: clustered JetStream needs its peers' routes from the start; list every node's route (this node's own may be included)"))
	}
	for i, r := range c.Routes {
		if _, err := parseRoute(r); err != nil {
			errs = append(errs, fielderr.New("Routes", "route %d: %v", i+1, err))
		}
	}
	if strings.ContainsAny(c.Name, " \t\r\n") {
		errs = append(errs, fielderr.New("Name", "must not contain spaces, got %q", c.Name))
	}
	if (c.User == "") != (c.Password == "") {
		errs = append(errs, fielderr.New("Password", "set Cluster.User and Cluster.Password together"))
	}
	return errors.Join(errs...)
}

// validateExternal checks an external connection's URL, credentials and
// TLS, and refuses the embedded server's fields.
func (c Config) validateExternal() error {
	var errs []error
	for _, f := range []setField{
		{"Listen", c.Listen != ""}, {"ServerName", c.ServerName != ""}, {"JetStream.Dir", c.JetStream.Dir != ""},
		{"Cluster.Listen", c.Cluster.Listen != ""}, {"Cluster.Routes", len(c.Cluster.Routes) > 0},
		{"Cluster.Name", c.Cluster.Name != ""}, {"Cluster.User", c.Cluster.User != ""}, {"Cluster.Password", c.Cluster.Password != ""},
	} {
		if f.set {
			errs = append(errs, fielderr.New(f.name, "applies to the embedded server only, and URL is set"))
		}
	}
	for i, raw := range strings.Split(c.URL, ",") {
		if err := checkServerURL(strings.TrimSpace(raw)); err != nil {
			errs = append(errs, fielderr.New("URL", "server %d: %v", i+1, err))
		}
	}
	if _, err := c.credentials(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.TLS.load(true); err != nil {
		errs = append(errs, fielderr.Prefix("TLS", err))
	}
	return errors.Join(errs...)
}

// setField is a field and whether it is set, for the checks that refuse
// the fields of the other mode (in a fixed order, so messages are stable).
type setField struct {
	name string
	set  bool
}

// checkServerURL checks one external server URL. The error shows the URL
// with its password redacted.
func checkServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("scheme must be nats, tls, ws or wss: %q", redactURL(u))
	}
	if u.Hostname() == "" {
		return fmt.Errorf("no host: %q", redactURL(u))
	}
	return nil
}

// parseRoute parses a route URL: nats:// or nats-route://, with a host and
// a port.
func parseRoute(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "nats" && u.Scheme != "nats-route" {
		return nil, fmt.Errorf("scheme must be nats or nats-route: %q", redactURL(u))
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("must be scheme://host:port: %q", redactURL(u))
	}
	if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
		return nil, fmt.Errorf("bad port: %q", redactURL(u))
	}
	return u, nil
}

// splitHostPort splits a listen address; the port may be 0 (any free one).
func splitHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("must be host:port, got %q", addr)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return host, int(port), nil
}

// loopbackAddress checks that addr is a host:port on loopback: the
// embedded server's client port authenticates no one.
func loopbackAddress(addr string) error {
	host, _, err := splitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("must be a loopback address (127.0.0.1, ::1 or localhost): the embedded server's client port has no authentication; got %q", addr)
	}
	return nil
}
