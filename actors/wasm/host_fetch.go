package wasm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// parseFetchRequest decodes an http_fetch request strictly: one JSON object
// with no unknown fields, an absolute http or https URL with a host, a
// method token (GET when empty), valid header fields and a timeout that
// fits an i32, like request's.
func parseFetchRequest(b []byte) (*abi.FetchRequest, *url.URL, error) {
	var r abi.FetchRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, nil, fmt.Errorf("request is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("request has data after the JSON object")
	}
	u, err := url.Parse(r.URL)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("bad url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, nil, fmt.Errorf("url scheme %q is not http or https", u.Scheme)
	case u.Hostname() == "":
		return nil, nil, errors.New("url has no host")
	case r.TimeoutMS < 0 || r.TimeoutMS > math.MaxInt32:
		return nil, nil, errors.New("timeout_ms must be 0 to 2147483647")
	}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if !isToken(r.Method) {
		return nil, nil, fmt.Errorf("method %q is not an HTTP token", r.Method)
	}
	for name, values := range r.Header {
		if !isToken(name) {
			return nil, nil, fmt.Errorf("header name %q is not an HTTP token", name)
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, nil, fmt.Errorf("header %q has a value with CR, LF or NUL", name)
			}
		}
	}
	return &r, u, nil
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// hostHTTPFetch is http_fetch(req_ptr, req_len): it performs the request
// through the component's guarded client (see newFetchClient) and leaves
// the JSON response pending.
func hostHTTPFetch(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	raw, ok := guestBytes(mem, stack, 0)
	if !ok {
		return env.badArg("request")
	}
	c := env.comp
	if len(raw) > c.limits.MaxMessageBytes {
		return env.tooLarge("request", len(raw), c.limits.MaxMessageBytes)
	}
	fr, u, err := parseFetchRequest(raw)
	if err != nil {
		return env.fail(abi.CodeInvalid, "invalid: "+err.Error())
	}
	if err := checkURL(c.caps, u); err != nil {
		return env.denyNetwork(ctx, err.(*networkDeniedError))
	}
	if c.client == nil {
		return env.fail(abi.CodeUnavailable, "unavailable: no HTTP client is configured")
	}
	fctx, cancel := env.callContext(ctx, time.Duration(fr.TimeoutMS)*time.Millisecond)
	defer cancel()
	var body io.Reader = http.NoBody
	if len(fr.Body) > 0 {
		body = bytes.NewReader(fr.Body)
	}
	req, err := http.NewRequestWithContext(fctx, fr.Method, u.String(), body)
	if err != nil {
		return env.fail(abi.CodeInvalid, "invalid: "+err.Error())
	}
	if fr.Header != nil {
		req.Header = http.Header(fr.Header)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return env.fetchError(ctx, err)
	}
	defer resp.Body.Close()
	limit := c.limits.MaxReplyBytes
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return env.fetchError(ctx, err)
	}
	if len(data) > limit {
		return env.fail(abi.CodeTooLarge, fmt.Sprintf("too_large: response body is over the limit of %d bytes", limit))
	}
	out, err := json.Marshal(abi.FetchResponse{Status: resp.StatusCode, Header: abi.Header(resp.Header), Body: data})
	if err != nil {
		return env.fail(abi.CodeFailed, "failed: encoding the response: "+err.Error())
	}
	return env.succeed(out)
}

// fetchError maps a client error: a refused redirect or dial is a denial,
// a passed deadline a timeout, anything else a network failure.
func (e *instanceEnv) fetchError(ctx context.Context, err error) int64 {
	var denied *networkDeniedError
	if errors.As(err, &denied) {
		return e.denyNetwork(ctx, denied)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return e.fail(abi.CodeTimeout, "timeout: the HTTP request did not finish before the deadline")
	}
	return e.fail(abi.CodeFailed, "failed: "+err.Error())
}

// denyNetwork refuses an http_fetch for want of a network grant.
func (e *instanceEnv) denyNetwork(ctx context.Context, d *networkDeniedError) int64 {
	hp := d.hostPort()
	return e.deny(ctx, "network", "network:outbound:"+hp, hp)
}
