// Command summarizer is the showcase's WASM component: it serves
// GET /api/v2/notes/:id/summary by asking the notes actor for the note and
// summarizing it. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o summarizer.wasm .
//
// or let the showcase build it on first start (dev mode).
package main

import (
	"errors"
	"strconv"
	"time"

	"github.com/troupehq/troupe/actors/guest"
)

func init() {
	guest.HandleHTTP(summarize)
}

func main() {}

// note is the part of the notes actor's reply the summary needs.
type note struct {
	ID    int
	Title string
	Body  string
}

// summary is the response body.
type summary struct {
	ID             int
	Title          string
	Summary        string
	Words          int
	ReadingSeconds int
}

// The messages are flat JSON, read and written with the SDK's JSONWriter
// and ScanJSONObject rather than encoding/json, whose reflection costs a
// guest several times the route's native handling (docs/components.md,
// "JSON in a guest").

// summarize answers one summary request.
func summarize(_ guest.Context, req *guest.HTTPRequest) (*guest.HTTPResponse, error) {
	id, err := strconv.Atoi(req.Param("id"))
	if err != nil || id < 1 {
		return problem(statusBadRequest, "the note id must be a positive integer"), nil
	}
	var query guest.JSONWriter
	query.Reset(make([]byte, 0, 32)) // one allocation: growing costs several
	query.Int("get", id)
	raw, err := guest.Request("notes", query.Bytes(), time.Second)
	switch {
	case errors.Is(err, guest.ErrUnavailable), errors.Is(err, guest.ErrNotFound):
		// The note's entity is moving between nodes, or NATS is down:
		// not processed, so the client may retry, as the native routes say.
		// No notes actor at all (a missing note is a reply, below) is the
		// same for the client: for a moment after a node dies, a request
		// to the notes pool can find no member, and the native routes
		// answer 503 then too.
		resp := problem(statusUnavailable, "the notes are unavailable for now; retry")
		resp.Header = retryHeader
		return resp, nil
	case errors.Is(err, guest.ErrTimeout):
		return problem(statusTimeout, "the notes did not answer in time"), nil
	case err != nil:
		return nil, err
	}
	n, found, err := parseNoteReply(raw)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return problem(statusNotFound, "note "+strconv.Itoa(id)+" does not exist"), nil
	}
	return &guest.HTTPResponse{Status: 200, Header: jsonHeader, Body: summarise(n).json()}, nil
}

// parseNoteReply reads the notes actor's answer to {"get": id}:
// {"note": {...}}, or {"error": "not_found"} (found false); any other
// error is an error.
func parseNoteReply(raw []byte) (n *note, found bool, err error) {
	var failure string
	err = guest.ScanJSONObject(raw, func(key string, v guest.JSONValue) error {
		switch {
		case key == "note" && !v.IsNull():
			n = &note{}
			return v.Object(n.field)
		case key == "error" && !v.IsNull():
			var err error
			failure, err = v.AsString()
			return err
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, false, errors.New("notes actor: malformed reply: " + err.Error())
	case failure == "not_found":
		return nil, false, nil
	case n == nil:
		return nil, false, errors.New("notes actor: " + failure)
	}
	return n, true, nil
}

// field reads one member of a note.
func (n *note) field(key string, v guest.JSONValue) (err error) {
	switch key {
	case "id":
		n.ID, err = v.AsInt()
	case "title":
		n.Title, err = v.AsString()
	case "body":
		n.Body, err = v.AsString()
	}
	return err
}

// json renders the summary as the response body.
func (s summary) json() []byte {
	var w guest.JSONWriter
	w.Reset(make([]byte, 0, 96+len(s.Title)+len(s.Summary)))
	w.Int("id", s.ID)
	w.Str("title", s.Title)
	w.Str("summary", s.Summary)
	w.Int("words", s.Words)
	w.Int("reading_seconds", s.ReadingSeconds)
	return w.Bytes()
}

// The errors the component answers, with their titles: net/http's
// StatusText would link net/http, which doubles the module.
const (
	statusBadRequest  = 400
	statusNotFound    = 404
	statusUnavailable = 503
	statusTimeout     = 504
)

var statusTitles = map[int]string{
	statusBadRequest: "Bad Request", statusNotFound: "Not Found",
	statusUnavailable: "Service Unavailable", statusTimeout: "Gateway Timeout",
}

// problem is an RFC 9457 problem response.
func problem(status int, detail string) *guest.HTTPResponse {
	var w guest.JSONWriter
	w.Str("type", "about:blank")
	w.Str("title", statusTitles[status])
	w.Int("status", status)
	w.Str("detail", detail)
	return &guest.HTTPResponse{Status: status, Header: problemHeader, Body: w.Bytes()}
}

// The responses' headers, shared: the SDK only reads a response, and a map
// built per response would cost a guest several microseconds.
var (
	jsonHeader    = guest.Header{"Content-Type": {"application/json"}}
	problemHeader = guest.Header{"Content-Type": {"application/problem+json"}}
	retryHeader   = guest.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"1"}}
)
