// Command summarizer is the showcase's WASM component: it serves
// GET /api/v2/notes/:id/summary by asking the notes actor for the note and
// summarizing it. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o summarizer.wasm .
//
// or let the showcase build it on first start (dev mode).
package main

import (
	"encoding/json"
	"errors"
	"net/http"
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
	ID    int    `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// noteReply is the notes actor's answer to {"get": id}.
type noteReply struct {
	Note  *note  `json:"note"`
	Error string `json:"error"`
}

// summary is the response body.
type summary struct {
	ID             int    `json:"id"`
	Title          string `json:"title"`
	Summary        string `json:"summary"`
	Words          int    `json:"words"`
	ReadingSeconds int    `json:"reading_seconds"`
}

// summarize answers one summary request.
func summarize(_ guest.Context, req *guest.HTTPRequest) (*guest.HTTPResponse, error) {
	id, err := strconv.Atoi(req.Param("id"))
	if err != nil || id < 1 {
		return problem(http.StatusBadRequest, "the note id must be a positive integer")
	}
	query, _ := json.Marshal(map[string]int{"get": id})
	raw, err := guest.Request("notes", query, time.Second)
	if err != nil {
		return nil, err
	}
	var reply noteReply
	if err := json.Unmarshal(raw, &reply); err != nil {
		return nil, err
	}
	switch {
	case reply.Error == "not_found":
		return problem(http.StatusNotFound, "note "+strconv.Itoa(id)+" does not exist")
	case reply.Note == nil:
		return nil, errors.New("notes actor: " + reply.Error)
	}
	return guest.JSONResponse(http.StatusOK, summarise(reply.Note))
}

// problem is an RFC 9457 client error.
func problem(status int, detail string) (*guest.HTTPResponse, error) {
	resp, err := guest.JSONResponse(status, map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
	if resp != nil {
		resp.Header["Content-Type"] = []string{"application/problem+json"}
	}
	return resp, err
}
