package actors

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// HTTPRequest is what a Route sends to its actor: the parts of the request
// an actor needs, detached from net/http and Echo.
type HTTPRequest struct {
	Method string
	// Route is the route template, such as "/api/v1/orders/:id".
	Route    string
	Params   map[string]string
	Query    url.Values
	Header   http.Header
	Body     []byte
	RemoteIP string
	// Principal is the authenticated party (an *authz.Principal), nil when
	// the request is anonymous.
	Principal *principal.Principal
}

// HTTPResponse is a reply that controls the response exactly. Status 0 means
// 200. Any other reply value is sent as 200 JSON (nil as 204), and an error
// reply becomes problem+json: reply problem.NewError(404, "...") for a
// client error.
type HTTPResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// Client-visible details; causes are logged by the error handler, never sent.
const (
	unavailableDetail = "The actor handling this request is unavailable."
	failedDetail      = "The actor failed to handle the request."
)

type routeConfig struct{ sys *System }

// RouteOption configures a Route.
type RouteOption func(*routeConfig)

// WithSystem makes the Route use s instead of the System in the request's
// context.
func WithSystem(s *System) RouteOption { return func(c *routeConfig) { c.sys = s } }

type systemKey struct{}

// NewContext returns a copy of ctx carrying s, for Route handlers (and any
// code below them) to find with FromContext. A service puts it in its HTTP
// server's base context, so every request carries the System at no cost
// per request.
func NewContext(ctx context.Context, s *System) context.Context {
	return context.WithValue(ctx, systemKey{}, s)
}

// FromContext returns the System stored by NewContext, or nil.
func FromContext(ctx context.Context) *System {
	s, _ := ctx.Value(systemKey{}).(*System)
	return s
}

// Route returns a handler that sends the request as an *HTTPRequest to the
// actor registered as name, with the request's context (so its deadline
// bounds the wait), and writes the reply: *HTTPResponse as is, an error as
// problem+json (a *problem.Error, or an *echo.HTTPError, keeps its status
// and detail, as it would from a handler; any other error is a 500 whose
// cause is logged), nil as 204, anything else as 200 JSON. A full mailbox,
// a stopped or unknown actor, or one on a node NATS cannot reach now
// (ErrUnavailable), is 503 with Retry-After: 1; a timeout returns
// an error wrapping context.DeadlineExceeded for the timeout stage to map.
// Problems are returned as *problem.Error for the service's error handler
// to render.
//
// Routes are declared before the System exists, so the handler finds it
// per request: WithSystem's, else the one in the request context
// (NewContext), which a Troupe service's server provides.
func Route(name string, opts ...RouteOption) echo.HandlerFunc {
	var rc routeConfig
	for _, o := range opts {
		o(&rc)
	}
	return func(c echo.Context) error {
		r := c.Request()
		ctx := r.Context()
		s := rc.sys
		if s == nil {
			s = FromContext(ctx)
		}
		if s == nil {
			err := problem.NewError(http.StatusInternalServerError, failedDetail)
			err.Err = errors.New("actors: Route " + name + ": no System (serve it with actors.NewContext in the request context, or use WithSystem)")
			return err
		}
		ref, err := s.Lookup(name)
		if err != nil {
			return unavailable(err)
		}
		req, err := newHTTPRequest(c)
		if err != nil {
			return err // the body-limit stage maps its own errors
		}
		reply, err := s.Request(ctx, ref, req)
		if err != nil {
			return requestError(err)
		}
		return writeReply(c, reply)
	}
}

// newHTTPRequest reads the request, body included, into what the actor
// gets.
func newHTTPRequest(c echo.Context) (*HTTPRequest, error) {
	r := c.Request()
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	}
	return &HTTPRequest{
		Method:    r.Method,
		Route:     c.Path(),
		Params:    params(c),
		Query:     c.QueryParams(),
		Header:    r.Header,
		Body:      body,
		RemoteIP:  c.RealIP(),
		Principal: requestPrincipal(r.Context()),
	}, nil
}

// requestError maps a failed Request: a deadline or cancellation passes
// through for the timeout stage, an actor that cannot take the request is
// 503, anything else a 500.
func requestError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, ErrMailboxFull), errors.Is(err, ErrStopped), errors.Is(err, ErrNotFound),
		errors.Is(err, ErrUnavailable), errors.Is(err, ErrNotOwner):
		return unavailable(err)
	}
	return failed(err)
}

// requestPrincipal returns the principal the authentication stage stored
// for the request, or nil.
func requestPrincipal(ctx context.Context) *principal.Principal {
	if info := reqinfo.FromContext(ctx); info != nil {
		p, _ := info.Principal.(*principal.Principal)
		return p
	}
	return nil
}

func params(c echo.Context) map[string]string {
	names := c.ParamNames()
	if len(names) == 0 {
		return nil
	}
	values := c.ParamValues()
	m := make(map[string]string, len(names))
	for i, n := range names {
		if i < len(values) {
			m[n] = values[i]
		}
	}
	return m
}

func unavailable(cause error) error {
	pe := problem.NewError(http.StatusServiceUnavailable, unavailableDetail).WithHeader("Retry-After", "1")
	pe.Err = cause
	return pe
}

func failed(cause error) error {
	pe := problem.NewError(http.StatusInternalServerError, failedDetail)
	pe.Err = cause
	return pe
}

func writeReply(c echo.Context, reply any) error {
	switch v := reply.(type) {
	case *HTTPResponse:
		return writeResponse(c, v)
	case HTTPResponse:
		return writeResponse(c, &v)
	case *problem.Error:
		return v
	case *echo.HTTPError:
		return v
	case error:
		return failed(v)
	case nil:
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, reply)
}

func writeResponse(c echo.Context, resp *HTTPResponse) error {
	h := c.Response().Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(resp.Body)
	return err
}
