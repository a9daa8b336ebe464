// Package problem renders RFC 9457 problem details (application/problem+json),
// the one shape every Troupe framework error response takes.
//
// It is deliberately free of Echo: middleware, versioning and the service's
// health endpoints all write problems through it, so a 401 from authentication
// and a 404 from the router look the same to a client.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/troupehq/troupe/internal/reqinfo"
)

// ContentType is the media type of a problem details document.
const ContentType = "application/problem+json"

// Details is an RFC 9457 problem details object. RequestID is an extension
// member that lets a client quote the request when reporting a problem.
type Details struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// New returns the problem for an HTTP status with the standard title and
// "about:blank" type (RFC 9457 §4.2.1), and detail as given.
func New(status int, detail string) Details {
	return Details{Type: "about:blank", Title: Title(status), Status: status, Detail: detail}
}

// Title returns the standard reason phrase for status, or "Error" for a status
// without one.
func Title(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// Write sends p as the response. It fills in the request ID from the request
// context and, when p.Instance is empty, the request path. Headers already set
// on w (request ID, CORS, Retry-After) are kept; Content-Length is set so the
// response is complete as soon as it is written.
func Write(w http.ResponseWriter, r *http.Request, p Details) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = Title(p.Status)
	}
	if r != nil {
		if p.RequestID == "" {
			p.RequestID = reqinfo.RequestID(r.Context())
		}
		if p.Instance == "" && r.URL != nil {
			p.Instance = r.URL.Path
		}
	}
	body, err := json.Marshal(p)
	if err != nil { // cannot happen for this struct; keep the response well-formed anyway
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
