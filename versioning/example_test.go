package versioning_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

func listNotes(c echo.Context) error  { return c.String(http.StatusOK, "notes") }
func getNote(c echo.Context) error    { return c.String(http.StatusOK, "note "+c.Param("id")) }
func createNote(c echo.Context) error { return c.NoContent(http.StatusCreated) }

// A service declares its versions, deprecates the old one and mounts the API;
// clients of v1 then see the deprecation on every response.
func ExampleNew() {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/notes", listNotes) }).
		Version(2, func(g *versioning.Group) {
			g.GET("/notes/:id", getNote)
			g.POST("/notes", createNote)
		}).
		Deprecate(1,
			versioning.Since(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
			versioning.Sunset(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)),
			versioning.Successor(2),
			versioning.Link("https://example.com/docs/v1-deprecation"))

	e := echo.New()
	if err := api.Mount(e, versioning.MountOptions{EnforceSunset: true}); err != nil {
		fmt.Println(err)
		return
	}

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/notes", nil))
	fmt.Println(rec.Code, rec.Body)
	fmt.Println("Deprecation:", rec.Header().Get("Deprecation"))
	fmt.Println("Sunset:", rec.Header().Get("Sunset"))
	for _, link := range rec.Header().Values("Link") {
		fmt.Println("Link:", link)
	}
	// Output:
	// 200 notes
	// Deprecation: @1735689600
	// Sunset: Tue, 01 Jun 2027 00:00:00 GMT
	// Link: </api/v2>; rel="successor-version"
	// Link: <https://example.com/docs/v1-deprecation>; rel="deprecation"
}

func ExampleAPI_Versions() {
	api := versioning.New("/api").
		Version(2, func(g *versioning.Group) { g.GET("/notes/:id", getNote) }).
		Version(1, func(g *versioning.Group) { g.GET("/notes", listNotes) }).
		Deprecate(1,
			versioning.Since(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
			versioning.Sunset(time.Date(2099, 6, 1, 0, 0, 0, 0, time.UTC)),
			versioning.Successor(2))

	for _, v := range api.Versions() {
		fmt.Printf("%s %s %s", v.Label, v.Path, v.Status)
		if v.Sunset != nil {
			fmt.Printf(" sunset=%s successor=%s", v.Sunset.Format(time.DateOnly), v.Successor)
		}
		fmt.Println()
	}
	// Output:
	// v1 /api/v1 deprecated sunset=2099-06-01 successor=/api/v2
	// v2 /api/v2 active
}

// After its sunset a version answers 410 Gone, pointing at its successor.
func ExampleMountOptions() {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/notes", listNotes) }).
		Version(2, func(g *versioning.Group) { g.GET("/notes/:id", getNote) }).
		Deprecate(1, versioning.Sunset(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)), versioning.Successor(2))

	e := echo.New()
	err := api.Mount(e, versioning.MountOptions{
		EnforceSunset: true,
		Now:           func() time.Time { return time.Date(2027, 6, 2, 0, 0, 0, 0, time.UTC) },
		OnRequest:     func(version string) { fmt.Println("request to", version) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/notes", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body)
	// Output:
	// request to v1
	// 410 application/problem+json
	// {"type":"about:blank","title":"Gone","status":410,"detail":"API v1 was retired on Tue, 01 Jun 2027 00:00:00 GMT; use /api/v2 instead.","instance":"/api/v1/notes"}
}

// Builder mistakes surface together when the API is mounted.
func ExampleAPI_Mount() {
	err := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("notes", listNotes) }).
		Deprecate(1, versioning.Successor(3)).
		Mount(echo.New(), versioning.MountOptions{})
	fmt.Println(err)
	// Output:
	// versioning: v1: GET notes: path must start with "/"
	// versioning: v1: successor v3 is not a defined version
}
