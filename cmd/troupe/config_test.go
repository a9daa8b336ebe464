package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigPrintGolden pins the effective-config dump: values from the
// work dir's config.toml, from ORDERS_* and OTEL_* variables, a secret from
// a file, and the defaults, each with its source.
func TestConfigPrintGolden(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "go.mod", "module example.com/orders\n")
	writeFile(t, dir, "config.toml", "[http]\nbody_limit = \"1MiB\"\n[log]\nformat = \"text\"\n")
	secret := writeFile(t, dir, "secret", "a-secret-of-at-least-32-bytes-long!!\n")
	env := []string{
		"ORDERS_HTTP__ADDRESS=:9000",
		"ORDERS_AUTH__JWT__HMAC_SECRET_FILE=" + secret,
		"ORDERS_AUTH__JWT__ISSUER=orders",
		"ORDERS_AUTH__JWT__AUDIENCE=orders-api",
		"OTEL_SERVICE_NAME=orders-eu",
		"OTHER_HTTP__ADDRESS=ignored",
	}
	code, stdout, stderr := runCLI(t, dir, env, "config", "print")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The temporary directory changes from run to run.
	golden(t, "config-print.golden", strings.ReplaceAll(stdout, dir, "$DIR"))
	if strings.Contains(stdout, "a-secret") {
		t.Error("the secret was printed")
	}
}

// TestConfigCheckListsEveryProblem: unknown keys, type errors, bad values
// and bad variables, from a file and the environment, reported together
// with key and source, exit 1.
func TestConfigCheckListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "prod.toml", `
[http]
adress = ":80"
body_limit = "lots"
read_timeout = 30

[log]
level = "loud"
access = "yes"

[nope]
x = 1
`)
	env := []string{"ORDERS_RATE_LIMIT__PER_IP_RPM=many", "ORDERS_HTTP__DRAIN_DELAY=-1s", "ORDERS_BOGUS=1"}
	code, stdout, stderr := runCLI(t, dir, env, "config", "check", "--service", "orders", "--config", "prod.toml")
	if code != exitFailed || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing on stdout", code, stdout)
	}
	for _, want := range []string{
		"config of orders: 9 problem(s):",
		`unknown key "http.adress" in ` + file,
		"http.body_limit (from " + file + "): invalid size",
		"http.read_timeout (from " + file + "): durations need a unit",
		"log.level (from " + file + "): must be one of",
		"log.access (from " + file + "): expected a boolean",
		`unknown key "nope.x" in ` + file,
		"rate_limit.per_ip_rpm (from env ORDERS_RATE_LIMIT__PER_IP_RPM): invalid integer",
		"http.drain_delay (from env ORDERS_HTTP__DRAIN_DELAY)",
		`unknown key "bogus" in env ORDERS_BOGUS`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestConfigCheckOK(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "config.toml", "[http]\naddress = \":9000\"\n")
	code, stdout, stderr := runCLI(t, dir, []string{}, "config", "check", "--service", "orders")
	if code != 0 || !strings.Contains(stdout, "config of orders: ok (files "+filepath.Join(dir, "config.toml")+")") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

// TestConfigCheckAppSection: the service's own [app] keys are the
// service's to judge; check says so instead of failing on them, print
// cannot print without them.
func TestConfigCheckAppSection(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "config.toml", "[app]\ngreeting = \"hi\"\n")
	code, stdout, stderr := runCLI(t, dir, []string{}, "config", "check", "--service", "orders")
	if code != 0 || !strings.Contains(stderr, "app.greeting (from "+filepath.Join(dir, "config.toml")+")") || !strings.Contains(stderr, "-print-config") || !strings.Contains(stdout, "ok") {
		t.Errorf("check: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, dir, []string{"ORDERS_HTTP__ADDRESS="}, "config", "check", "--service", "orders")
	if code != exitFailed || !strings.Contains(stderr, "http.address") {
		t.Errorf("a real problem beside [app] keys: exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, dir, []string{}, "config", "print", "--service", "orders"); code != exitFailed || !strings.Contains(stderr, "-print-config") {
		t.Errorf("print with [app] keys: exit %d %q", code, stderr)
	}
}

func TestConfigServiceName(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, dir, []string{}, "config", "check"); code != exitUsage || !strings.Contains(stderr, "no --service given and no ./go.mod") {
		t.Errorf("no go.mod: exit %d %q", code, stderr)
	}
	writeFile(t, dir, "go.mod", "module example.com/shop/order-api/v2\n\ngo 1.26.0\n")
	if code, stdout, _ := runCLI(t, dir, []string{"ORDER_API_LOG__LEVEL=debug"}, "config", "print"); code != 0 || !strings.Contains(stdout, "log.level = \"debug\"") || !strings.Contains(stdout, "env ORDER_API_LOG__LEVEL") {
		t.Errorf("service from go.mod: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := runCLI(t, dir, []string{}, "config", "check", "--service", "Bad Name"); code != exitFailed || !strings.Contains(stderr, "invalid service name") {
		t.Errorf("bad service name: exit %d %q", code, stderr)
	}
}

// TestConfigCheckRealEnvironment runs troupe as a process, so the XDG
// directories and variables come from the real environment as they would
// for the service: dirs first, then home, then ./config.toml, then env.
func TestConfigCheckRealEnvironment(t *testing.T) {
	root := t.TempDir()
	sys := writeFile(t, root, "etc/orders/config.toml", "[http]\nbody_limit = \"2MiB\"\nread_timeout = \"7s\"\n")
	home := writeFile(t, root, "home/orders/config.toml", "[http]\nbody_limit = \"3MiB\"\n")
	work := filepath.Join(root, "work")
	writeFile(t, work, "config.toml", "[log]\nlevel = \"warn\"\n")
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + root,
		"XDG_CONFIG_DIRS=" + filepath.Join(root, "etc"),
		"XDG_CONFIG_HOME=" + filepath.Join(root, "home"),
		"ORDERS_LOG__FORMAT=text",
	}
	code, stdout, stderr := runProcess(t, work, env, "config", "print", "--service", "orders")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`http.body_limit = "3MiB"`, "# " + home,
		`http.read_timeout = "7s"`, "# " + sys,
		`log.level = "warn"`, "# config.toml\n",
		`log.format = "text"`, "# env ORDERS_LOG__FORMAT",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, _, stderr = runProcess(t, work, append(env, "ORDERS_LOG__LEVEL=loud"), "config", "check", "--service", "orders")
	if code != exitFailed || !strings.Contains(stderr, "log.level (from env ORDERS_LOG__LEVEL)") {
		t.Errorf("check: exit %d %q", code, stderr)
	}
}
