package versioning_test

import (
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

func TestRouteAccessSettings(t *testing.T) {
	ok := text("ok")
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/health", ok).Public() }).
		Version(2, func(g *versioning.Group) {
			g.GET("/notes", ok)
			g.DELETE("/notes/:id", ok).Resource("Note", "id").Action("notes:delete").Group("writes")
		})
	if err := api.Mount(echo.New(), versioning.MountOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range api.Routes() {
		got = append(got, strings.Join([]string{r.Method(), r.Path(), map[bool]string{true: "public", false: "protected"}[r.IsPublic()],
			r.ActionName(), r.ResourceType(), r.ResourceParam(), r.GroupName()}, "|"))
	}
	want := []string{
		"GET|/api/v1/health|public||||v1",
		"GET|/api/v2/notes|protected||||v2",
		"DELETE|/api/v2/notes/:id|protected|notes:delete|Note|id|writes",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Routes() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRouteAccessMistakes(t *testing.T) {
	ok := text("ok")
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/notes/:id", ok).Resource("Note", "noteId")
		g.GET("/other/:id", ok).Resource("9Note", "id")
		g.GET("/third", ok).Action(" ")
		g.GET("/fourth", ok).Group("")
	})
	err := api.Mount(echo.New(), versioning.MountOptions{})
	if err == nil {
		t.Fatal("Mount accepted bad access settings")
	}
	for _, want := range []string{
		`v1: GET /api/v1/notes/:id: Resource: the path has no parameter "noteId"`,
		`v1: GET /api/v1/other/:id: Resource: "9Note" is not an entity type name`,
		"v1: GET /api/v1/third: Action: empty name",
		"v1: GET /api/v1/fourth: Group: empty name",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
