package wasm

import (
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/troupehq/troupe/actors/internal/topic"
)

// Mount is a host directory to expose to a component, derived from its file
// grants.
type Mount struct {
	HostPath string
	ReadOnly bool
}

// AllowsFile reports whether p may be read, or written when write is set. p
// must be absolute; it is cleaned first, so ".." cannot climb out of a grant.
// A grant covers its subtree, and a write grant also allows reading.
// Symlinks are not resolved here: the mount layer must refuse them.
func (s CapabilitySet) AllowsFile(p string, write bool) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return false
	}
	p = path.Clean(p)
	for _, g := range s.files {
		if (g.write || !write) && within(p, g.path) {
			return true
		}
	}
	return false
}

// within reports whether clean path p is dir or below it.
func within(p, dir string) bool {
	if dir == "/" {
		return true
	}
	rest, ok := strings.CutPrefix(p, dir)
	return ok && (rest == "" || rest[0] == '/')
}

// AllowsNetwork reports whether an outbound connection to host:port is
// granted. host is a DNS name (compared case-insensitively) or an IP address,
// IPv6 with or without brackets; IP addresses compare by value.
func (s CapabilitySet) AllowsNetwork(host string, port int) bool {
	if port < 1 || port > 65535 || host == "" {
		return false
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	addr, err := netip.ParseAddr(h)
	isIP := err == nil && addr.Zone() == ""
	for _, g := range s.nets {
		if g.port != 0 && g.port != port {
			continue
		}
		if isIP && g.addr.IsValid() && g.addr == addr.Unmap() ||
			!isIP && g.host != "" && strings.EqualFold(g.host, host) {
			return true
		}
	}
	return false
}

// AllowsActor reports whether the component may message the actor called
// name; action is "send" or "request", and one does not imply the other.
func (s CapabilitySet) AllowsActor(action, name string) bool {
	if name == "" || action != "send" && action != "request" {
		return false
	}
	for _, g := range s.actors {
		if g.request != (action == "request") {
			continue
		}
		if g.wild && strings.HasPrefix(name, g.prefix) || !g.wild && name == g.prefix {
			return true
		}
	}
	return false
}

// AllowsTopic reports whether the component may publish on subject (action
// "publish"; subject must hold no wildcards and match a publish grant) or
// subscribe to pattern (action "subscribe"). A subscription is allowed only
// when every subject it could match is matched by one subscribe grant: the
// requested pattern must be a subset of a granted one. "orders.eu" and
// "orders.*" are within "orders.*", but "orders.>" is not, because it also
// matches "orders.eu.created".
func (s CapabilitySet) AllowsTopic(action, subject string) bool {
	var subscribe bool
	switch action {
	case "publish":
		if topic.ValidateSubject(subject) != nil {
			return false
		}
	case "subscribe":
		if topic.ValidatePattern(subject) != nil {
			return false
		}
		subscribe = true
	default:
		return false
	}
	for _, g := range s.topics {
		if g.subscribe == subscribe && covers(g.pattern, subject) {
			return true
		}
	}
	return false
}

// covers reports whether every subject matched by pattern req is matched by
// pattern grant. For a subject without wildcards this is plain matching.
func covers(grant, req string) bool {
	for {
		g, gRest, gMore := strings.Cut(grant, ".")
		if g == ">" {
			return true // req has at least this token left, and ">" takes any tail
		}
		r, rRest, rMore := strings.Cut(req, ".")
		switch {
		case g == "*":
			if r == ">" {
				return false // ">" may stand for several tokens
			}
		case g != r:
			return false // includes r == "*" or ">" against a literal
		}
		if gMore != rMore {
			return false
		}
		if !gMore {
			return true
		}
		grant, req = gRest, rRest
	}
}

// AllowsKV reports whether the component may read, or write when write is
// set, the key-value namespace. Reads and writes are granted separately.
func (s CapabilitySet) AllowsKV(write bool, namespace string) bool {
	for _, g := range s.kvs {
		if g.write == write && g.namespace == namespace {
			return true
		}
	}
	return false
}

// FileMounts returns one mount per granted path, sorted by path; a path
// with a write grant is writable, since a write grant implies read.
func (s CapabilitySet) FileMounts() []Mount {
	var ms []Mount
	for _, g := range s.files {
		i := slices.IndexFunc(ms, func(m Mount) bool { return m.HostPath == g.path })
		if i < 0 {
			ms = append(ms, Mount{HostPath: g.path, ReadOnly: !g.write})
		} else if g.write {
			ms[i].ReadOnly = false
		}
	}
	slices.SortFunc(ms, func(a, b Mount) int { return strings.Compare(a.HostPath, b.HostPath) })
	return ms
}
