package validate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	digest "github.com/opencontainers/go-digest"
)

// offlineResolver answers BuildKit's image lookups without a registry:
// the lint rules need an image config, not a real one.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, "", []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}

// buildkitLint runs the checks of `docker build --check` — BuildKit's
// Dockerfile front end converting every stage with its linter on, every
// rule including the experimental ones — and returns each finding.
func buildkitLint(t *testing.T, dockerfile []byte) []string {
	t.Helper()
	// The check directive, as a Dockerfile would carry it, turns on every
	// rule, the experimental ones too; directives may come in any order.
	dockerfile = append([]byte("# check=experimental=all\n"), dockerfile...)
	ctx := context.Background()
	src := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dockerfile)
	def, err := llb.Scratch().Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.Definition = def
	res, err := dockerfile2llb.DockerfileLint(ctx, dockerfile, dockerfile2llb.ConvertOpt{
		MetaResolver: offlineResolver{},
		SourceMap:    src,
	})
	if err != nil {
		t.Fatal(err)
	}
	return lintFindings(res)
}

func lintFindings(res *lint.LintResults) []string {
	var out []string
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		out = append(out, fmt.Sprintf("line %d: %s: %s", line, w.RuleName, w.Detail))
	}
	if res.Error != nil {
		out = append(out, "error: "+res.Error.Message)
	}
	return out
}

// dockerfiles are the Dockerfiles Troupe ships: the showcase's and the
// one troupe new writes, for every feature combination.
func dockerfiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	showcase, err := os.ReadFile("../../examples/showcase/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	out["examples/showcase/Dockerfile"] = showcase
	for name, files := range scaffolds(t) {
		out["troupe new "+name+": Dockerfile"] = files["Dockerfile"]
	}
	return out
}

func TestDockerfilesPassBuildKitLint(t *testing.T) {
	for name, df := range dockerfiles(t) {
		if findings := buildkitLint(t, df); len(findings) > 0 {
			t.Errorf("%s:\n  %s", name, strings.Join(findings, "\n  "))
		}
	}
}

// TestBuildKitLintFindsMistakes proves the linter is on: a Dockerfile
// with typical mistakes gets findings.
func TestBuildKitLintFindsMistakes(t *testing.T) {
	bad := []byte("FROM golang:1.26 as build\nfrom alpine\nMAINTAINER me\nENV TOOL=$UNDEFINED\nCMD echo hi\n")
	findings := strings.Join(buildkitLint(t, bad), "\n")
	for _, rule := range []string{"FromAsCasing", "ConsistentInstructionCasing", "MaintainerDeprecated", "JSONArgsRecommended", "UndefinedVar"} {
		if !strings.Contains(findings, rule) {
			t.Errorf("no %s finding in:\n%s", rule, findings)
		}
	}
}

// TestDockerfilesFollowTroupeRules checks what the production checklist
// asks of the image, on the parsed instructions.
func TestDockerfilesFollowTroupeRules(t *testing.T) {
	for name, df := range dockerfiles(t) {
		t.Run(name, func(t *testing.T) {
			for _, problem := range troupeRules(t, df) {
				t.Error(problem)
			}
		})
	}
	// And the rules reject what they should.
	bad := []byte("FROM golang:1.26 AS build\nRUN go build -o /app .\nFROM debian:bookworm\nCOPY --from=build /app /app\nENTRYPOINT /app\n")
	problems := strings.Join(troupeRules(t, bad), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "distroless", "USER", "HEALTHCHECK", "exec form"} {
		if !strings.Contains(problems, want) {
			t.Errorf("a bad Dockerfile passes the rule about %s:\n%s", want, problems)
		}
	}
}

// troupeRules lists how a Dockerfile breaks the image rules.
func troupeRules(t *testing.T, df []byte) []string {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	if len(stages) < 2 {
		problems = append(problems, "not a multi-stage build")
	}
	var cgoOff bool
	for _, s := range stages[:len(stages)-1] {
		for _, c := range s.Commands {
			if run, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(run.CmdLine, " "), "CGO_ENABLED=0 go build") {
				cgoOff = true
			}
		}
	}
	if !cgoOff {
		problems = append(problems, "no build stage runs CGO_ENABLED=0 go build: the binary would not be static")
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") {
		problems = append(problems, "final stage is "+final.BaseName+", not a distroless static image")
	}
	var user, healthcheck, entrypoint string
	var env, volumes []string
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.HealthCheckCommand:
			healthcheck = strings.Join(c.Health.Test, " ")
		case *instructions.EntrypointCommand:
			if !c.PrependShell {
				entrypoint = strings.Join(c.CmdLine, " ")
			} else {
				problems = append(problems, "ENTRYPOINT in shell form: distroless has no shell; use the exec form")
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env = append(env, kv.Key+"="+kv.Value)
			}
		case *instructions.VolumeCommand:
			volumes = append(volumes, c.Volumes...)
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || strings.Trim(uid, "0123456789") != "" {
		problems = append(problems, fmt.Sprintf("USER %q: want a numeric non-root UID, so runAsNonRoot can verify it", user))
	}
	if !strings.HasPrefix(healthcheck, "CMD ") || !strings.Contains(healthcheck, " -probe http://127.0.0.1:") {
		problems = append(problems, fmt.Sprintf("HEALTHCHECK %q: want the binary's own -probe (distroless has no curl)", healthcheck))
	}
	if entrypoint == "" || !strings.HasPrefix(entrypoint, "/app/") {
		problems = append(problems, "no exec form ENTRYPOINT of the binary in /app")
	}
	// Read-only root: every directory the service writes is a volume.
	for _, want := range []string{"XDG_CACHE_HOME=/cache"} {
		if !slices.Contains(env, want) {
			problems = append(problems, "no ENV "+want)
		}
	}
	for _, want := range []string{"/cache", "/tmp"} {
		if !slices.Contains(volumes, want) {
			problems = append(problems, "no VOLUME "+want+": the root file system must be able to stay read-only")
		}
	}
	return problems
}
