package service_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/versioning"
)

// A service is a versioned API handed to New. Run would serve it until
// SIGTERM; here the handler is exercised directly.
func ExampleNew() {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) {
			g.GET("/hello", func(c echo.Context) error {
				return c.String(http.StatusOK, "hello")
			})
		})

	svc, err := service.New("orders",
		service.WithAPI(api),
		service.WithLogOutput(io.Discard),
		// Tests and examples isolate themselves from the machine's config
		// files and environment; a real main omits this.
		service.WithConfigLoader(config.Loader{Environ: []string{}, ConfigDirs: []string{}, ConfigHome: "/nonexistent", WorkDir: "/nonexistent"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/hello", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 hello
}
