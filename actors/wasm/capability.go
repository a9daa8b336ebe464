package wasm

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/troupehq/troupe/actors/internal/topic"
)

// Capability is one kind:action:resource grant as written in a manifest.
type Capability struct {
	Kind, Action, Resource string
}

// String renders c in manifest syntax.
func (c Capability) String() string { return c.Kind + ":" + c.Action + ":" + c.Resource }

// CapabilityError is one malformed entry of a capability list.
type CapabilityError struct {
	Index int    // position in the list, from 0
	Value string // the entry as written
	Err   error
}

// Error names the entry by index and value so it can be found in the file.
func (e *CapabilityError) Error() string {
	return fmt.Sprintf("capability [%d] %q: %v", e.Index, e.Value, e.Err)
}

// Unwrap returns the reason the entry was rejected.
func (e *CapabilityError) Unwrap() error { return e.Err }

// CapabilitySet is a parsed list of grants. Its zero value grants nothing,
// which is the default every component starts from. It is immutable after
// parsing and safe for concurrent use.
type CapabilitySet struct {
	caps   []Capability
	files  []fileGrant
	nets   []netGrant
	actors []actorGrant
	topics []topicGrant
	kvs    []kvGrant
}

type fileGrant struct {
	path  string // absolute and clean
	write bool
}

type netGrant struct {
	host string     // lower-case DNS name, or "" for an IP grant
	addr netip.Addr // valid for an IP grant
	port int        // 0 means any port
}

type actorGrant struct {
	request bool   // "request" rather than "send"
	prefix  string // name, or name prefix when wildcard
	wild    bool   // trailing "*"
}

type topicGrant struct {
	subscribe bool
	pattern   string
}

type kvGrant struct {
	write     bool
	namespace string
}

// ParseCapabilities parses list strictly: an unknown kind or action, a
// malformed resource or a duplicate entry is a *CapabilityError; all of them
// are returned joined. On error the set is empty, granting nothing.
func ParseCapabilities(list []string) (CapabilitySet, error) {
	s, errs := parseCapabilities(list)
	if len(errs) > 0 {
		return CapabilitySet{}, errors.Join(errs...)
	}
	return s, nil
}

// Capabilities returns the grants in manifest order.
func (s CapabilitySet) Capabilities() []Capability {
	return append([]Capability(nil), s.caps...)
}

// parseCapabilities returns the set of the valid entries and one error per
// invalid one, so a manifest can report each under its own key.
func parseCapabilities(list []string) (CapabilitySet, []error) {
	var s CapabilitySet
	var errs []error
	seen := make(map[string]int, len(list))
	for i, v := range list {
		fail := func(err error) { errs = append(errs, &CapabilityError{Index: i, Value: v, Err: err}) }
		if j, dup := seen[v]; dup {
			fail(fmt.Errorf("duplicate of capability [%d]", j))
			continue
		}
		seen[v] = i
		if err := s.add(v); err != nil {
			fail(err)
		}
	}
	return s, errs
}

// The patterns compile on first use, when a manifest is parsed: their
// bounded repeats expand to hundreds of instructions, and every process
// that links this package would otherwise hold them from init, components
// or not (with manifest_validate.go's, 430 KB of heap at init).
var (
	actorRE = lazyRegexp(`^(\*|[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}\*?)$`)
	kvRE    = lazyRegexp(`^[a-z][a-z0-9_.-]{0,127}$`)
)

// lazyRegexp returns a function that compiles pattern on its first call
// and returns the same *regexp.Regexp on every call.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// add parses one entry and records its grant.
func (s *CapabilitySet) add(v string) error {
	kind, rest, ok1 := strings.Cut(v, ":")
	action, res, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || res == "" {
		return errors.New("want kind:action:resource")
	}
	c := Capability{Kind: kind, Action: action, Resource: res}
	var err error
	switch kind {
	case "file":
		err = s.addFile(action, res)
	case "network":
		err = s.addNetwork(action, res)
	case "actor":
		switch {
		case action != "send" && action != "request":
			err = badAction(kind, action, "send", "request")
		case !actorRE().MatchString(res):
			err = fmt.Errorf("actor name %q must be *, a name, or a name prefix ending in *", res)
		default:
			prefix, wild := strings.CutSuffix(res, "*")
			s.actors = append(s.actors, actorGrant{request: action == "request", prefix: prefix, wild: wild})
		}
	case "topic":
		switch {
		case action != "publish" && action != "subscribe":
			err = badAction(kind, action, "publish", "subscribe")
		default:
			if err = topic.ValidatePattern(res); err == nil {
				s.topics = append(s.topics, topicGrant{subscribe: action == "subscribe", pattern: res})
			}
		}
	case "kv":
		switch {
		case action != "read" && action != "write":
			err = badAction(kind, action, "read", "write")
		case !kvRE().MatchString(res):
			err = fmt.Errorf("kv namespace %q must match %s", res, kvRE())
		default:
			s.kvs = append(s.kvs, kvGrant{write: action == "write", namespace: res})
		}
	default:
		err = fmt.Errorf("unknown kind %q (want file, network, actor, topic or kv)", kind)
	}
	if err == nil {
		s.caps = append(s.caps, c)
	}
	return err
}

func badAction(kind, action string, want ...string) error {
	return fmt.Errorf("unknown %s action %q (want %s)", kind, action, strings.Join(want, " or "))
}

// addFile accepts only absolute, already-clean paths: a grant must say
// exactly what it grants, so "/data/../etc" or "/data/" are rejected rather
// than reinterpreted.
func (s *CapabilitySet) addFile(action, p string) error {
	if action != "read" && action != "write" {
		return badAction("file", action, "read", "write")
	}
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("file path %q must be absolute", p)
	case path.Clean(p) != p:
		return fmt.Errorf("file path %q must be clean (no .., ., // or trailing /)", p)
	case strings.IndexFunc(p, unicode.IsControl) >= 0:
		return fmt.Errorf("file path %q contains a control character", p)
	}
	s.files = append(s.files, fileGrant{path: p, write: action == "write"})
	return nil
}

// addNetwork parses host:port, where an IPv6 host is bracketed and the port
// is 1-65535 or "*".
func (s *CapabilitySet) addNetwork(action, res string) error {
	if action != "outbound" {
		return badAction("network", action, "outbound")
	}
	i := strings.LastIndexByte(res, ':')
	if i < 0 {
		return fmt.Errorf("network resource %q must be host:port", res)
	}
	host, portStr := res[:i], res[i+1:]
	g := netGrant{}
	if portStr != "*" {
		port, ok := parsePort(portStr)
		if !ok {
			return fmt.Errorf("port %q must be 1-65535 or *", portStr)
		}
		g.port = port
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		addr, err := netip.ParseAddr(inner)
		if !ok || err != nil || !addr.Is6() || addr.Zone() != "" {
			return fmt.Errorf("host %q is not a bracketed IPv6 address", host)
		}
		g.addr = addr.Unmap() // an IPv4-mapped grant means the IPv4 host
	} else if addr, err := netip.ParseAddr(host); err == nil && addr.Is4() {
		g.addr = addr
	} else if strings.Contains(host, ":") {
		return fmt.Errorf("host %q: an IPv6 address must be in brackets", host)
	} else if !validDNSName(host) {
		return fmt.Errorf("host %q is not a DNS name or IP address", host)
	} else {
		g.host = strings.ToLower(host)
	}
	s.nets = append(s.nets, g)
	return nil
}

// parsePort accepts canonical decimal ports only: no sign, no leading zero.
func parsePort(p string) (int, bool) {
	if p == "" || len(p) > 5 || p[0] == '0' || strings.Trim(p, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(p)
	return n, err == nil && n <= 65535
}

// validDNSName checks RFC 1123 host name syntax. A name whose last label is
// numeric would be read as an IPv4 address by resolvers, so it must be one.
func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	var last string
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
		last = label
	}
	return strings.Trim(last, "0123456789") != ""
}
