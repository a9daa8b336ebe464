// Command quickstart is the smallest useful Troupe service: one API version
// with one route, and everything else — config, health, request IDs, access
// log, compression, graceful shutdown — from the framework.
//
//	go run ./examples/quickstart
//	curl -i localhost:8080/api/v1/hello?name=Ada
package main

import (
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/versioning"
)

func main() {
	os.Exit(service.Main("quickstart", options()...))
}

// options is shared by main and the test that starts the example.
func options() []service.Option {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) {
			g.GET("/hello", hello)
		})
	return []service.Option{service.WithAPI(api)}
}

func hello(c echo.Context) error {
	name := c.QueryParam("name")
	if name == "" {
		name = "world"
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "hello, " + name})
}
