package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// RouteLimit is one entry of rate_limit.routes or rate_limit.global,
// written "METHOD /route/template=N": a route, by method and template as in
// auth.public_paths, and N requests per minute. It is parsed once, when the
// config loads, so a malformed entry is a load error naming the key and its
// source, and the service reads the parsed fields.
type RouteLimit struct {
	Method string // e.g. "POST"
	Route  string // the route template, e.g. "/api/v2/notes"
	RPM    int    // requests per minute, at least 1
}

// UnmarshalText parses "METHOD /route=N"; spaces around each part are
// allowed.
func (r *RouteLimit) UnmarshalText(text []byte) error {
	s := string(text)
	route, n, ok := strings.Cut(s, "=")
	method, path, hasMethod := strings.Cut(strings.TrimSpace(route), " ")
	rpm, err := strconv.Atoi(strings.TrimSpace(n))
	path = strings.TrimSpace(path)
	if !ok || !hasMethod || !isToken(method) || !strings.HasPrefix(path, "/") || err != nil || rpm < 1 {
		return fmt.Errorf("%q is not \"METHOD /route=requests-per-minute\" with a positive count", s)
	}
	*r = RouteLimit{Method: method, Route: path, RPM: rpm}
	return nil
}

// MarshalText writes the entry back as "METHOD /route=N".
func (r RouteLimit) MarshalText() ([]byte, error) {
	return []byte(r.Key() + "=" + strconv.Itoa(r.RPM)), nil
}

// Key returns "METHOD /route", the form the rate-limit stages key routes by.
func (r RouteLimit) Key() string { return r.Method + " " + r.Route }

// GroupLimit is one entry of resilience.bulkhead.groups, written
// "group=N": at most N requests of the route group at once. It is parsed
// once, when the config loads.
type GroupLimit struct {
	Group string // the route group, as Route.Group or the version label names it
	Max   int    // requests at once, at least 1
}

// UnmarshalText parses "group=N".
func (g *GroupLimit) UnmarshalText(text []byte) error {
	s := string(text)
	group, count, ok := strings.Cut(s, "=")
	group = strings.TrimSpace(group)
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if !ok || group == "" || err != nil || n < 1 {
		return fmt.Errorf("%q is not \"group=max-concurrent\" with a positive count", s)
	}
	*g = GroupLimit{Group: group, Max: n}
	return nil
}

// MarshalText writes the entry back as "group=N".
func (g GroupLimit) MarshalText() ([]byte, error) {
	return []byte(g.Group + "=" + strconv.Itoa(g.Max)), nil
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
)

// isText reports whether t is a value written as a string and parsed by
// its own UnmarshalText, such as RouteLimit: a leaf of the schema, whatever
// its kind.
func isText(t reflect.Type) bool {
	return t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshaler) && t.Implements(textMarshaler)
}
