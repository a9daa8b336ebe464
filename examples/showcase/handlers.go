package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

const maxTitleLen = 200

type handlers struct {
	store *noteStore
}

// noteV1 is the v1 shape of a note: no timestamps.
type noteV1 struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// listV1 answers GET /api/v1/notes with a bare array, the v1 contract.
func (h *handlers) listV1(c echo.Context) error {
	notes := h.store.list()
	out := make([]noteV1, len(notes))
	for i, n := range notes {
		out[i] = noteV1{ID: n.ID, Title: n.Title, Body: n.Body}
	}
	return c.JSON(http.StatusOK, out)
}

// list answers GET /api/v2/notes.
func (h *handlers) list(c echo.Context) error {
	notes := h.store.list()
	return c.JSON(http.StatusOK, map[string]any{"notes": notes, "count": len(notes)})
}

// get answers GET /api/v2/notes/:id.
func (h *handlers) get(c echo.Context) error {
	id, err := noteID(c)
	if err != nil {
		return err
	}
	n, ok := h.store.get(id)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("note %d does not exist", id))
	}
	return c.JSON(http.StatusOK, n)
}

type createRequest struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// create answers POST /api/v2/notes with 201 and a Location header.
func (h *handlers) create(c echo.Context) error {
	var req createRequest
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badJSON(err)
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "request body must be a single JSON object")
	}
	req.Title = strings.TrimSpace(req.Title)
	switch {
	case req.Title == "":
		return echo.NewHTTPError(http.StatusBadRequest, "title is required")
	case utf8.RuneCountInString(req.Title) > maxTitleLen:
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("title is longer than %d characters", maxTitleLen))
	}
	n := h.store.add(req.Title, req.Body, time.Now())
	c.Response().Header().Set("Location", "/api/v2/notes/"+strconv.Itoa(n.ID))
	return c.JSON(http.StatusCreated, n)
}

// delete answers DELETE /api/v2/notes/:id with 204.
func (h *handlers) delete(c echo.Context) error {
	id, err := noteID(c)
	if err != nil {
		return err
	}
	if !h.store.delete(id) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("note %d does not exist", id))
	}
	return c.NoContent(http.StatusNoContent)
}

func noteID(c echo.Context) (int, error) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id < 1 {
		return 0, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("note %q does not exist", c.Param("id")))
	}
	return id, nil
}

// badJSON turns a decoding error into a 400 that says what was wrong, but
// lets an oversized body keep its own meaning (413) for the error handler.
func badJSON(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	if errors.Is(err, io.EOF) {
		return echo.NewHTTPError(http.StatusBadRequest, "request body is empty; expected a JSON object").SetInternal(err)
	}
	return echo.NewHTTPError(http.StatusBadRequest, "request body is not valid JSON: "+err.Error()).SetInternal(err)
}
