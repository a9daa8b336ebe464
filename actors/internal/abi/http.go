package abi

// Header is a set of HTTP header fields, keyed by canonical name
// ("Content-Type"), as the host sends them. It has the shape of
// net/http.Header without importing net/http, which would bloat every
// guest.
type Header map[string][]string

// Get returns the first value of the field key, case-insensitively, or "".
func (h Header) Get(key string) string {
	if v := h[canonicalKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of the field key with value.
func (h Header) Set(key, value string) { h[canonicalKey(key)] = []string{value} }

// Add appends value to the values of the field key.
func (h Header) Add(key, value string) {
	k := canonicalKey(key)
	h[k] = append(h[k], value)
}

// canonicalKey returns key in canonical MIME form, as
// net/textproto.CanonicalMIMEHeaderKey does: upper case at the start and
// after each hyphen, lower case elsewhere. A key holding a byte outside the
// token set is returned unchanged, as textproto does.
func canonicalKey(key string) string {
	upper := true
	canonical := true
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !isTokenByte(c) {
			return key
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return key
	}
	b := []byte(key)
	upper = true
	for i, c := range b {
		switch {
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case !upper && 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

// isTokenByte reports whether c may appear in a header field name (RFC 9110
// token).
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// HTTPRequest is an HTTP request routed to a component (kind 2), in the
// ABI's JSON form.
type HTTPRequest struct {
	Method string `json:"method"`
	// Route is the route template, such as "/api/v2/notes/:id/summary".
	Route string `json:"route"`
	// Params are the route's path parameters by name.
	Params map[string]string   `json:"params,omitempty"`
	Query  map[string][]string `json:"query,omitempty"`
	Header Header              `json:"header,omitempty"`
	Body   []byte              `json:"body,omitempty"`
	// RemoteIP is the client's address as the host's proxy rules resolve it.
	RemoteIP string `json:"remote_ip,omitempty"`
	// Principal is the authenticated caller, nil for an anonymous request.
	Principal *Principal `json:"principal,omitempty"`
}

// Param returns the path parameter name, or "" if the route has none.
func (r *HTTPRequest) Param(name string) string { return r.Params[name] }

// QueryValue returns the first value of the query parameter name, or "".
func (r *HTTPRequest) QueryValue(name string) string {
	if v := r.Query[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Principal is the authenticated party behind an HTTP request. Roles and
// scopes are always arrays, so a guest need not tell absent from empty.
type Principal struct {
	Subject string   `json:"subject"`
	Kind    string   `json:"kind"`
	Roles   []string `json:"roles"`
	Scopes  []string `json:"scopes"`
}

// HTTPResponse is a component's answer to an HTTP request: the payload of
// an ok reply to kind 2. Status 0 means 200; a status outside 100–999 is
// an ABI violation.
type HTTPResponse struct {
	Status int    `json:"status"`
	Header Header `json:"header,omitempty"`
	Body   []byte `json:"body,omitempty"`
}
