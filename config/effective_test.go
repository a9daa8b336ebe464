package config

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gotoml "github.com/pelletier/go-toml/v2"
)

func TestEffectiveDump(t *testing.T) {
	l := newLayout(t)
	home := l.serviceFile(l.home, "name = \"quote\\\" tab\\t nul\\u0000\"\nratio = 2.0\nsmall = -5\n")
	secret := l.write(filepath.Join(l.work, "pw"), "pw\n")
	cfg := defaultTestConfig()
	eff, err := l.loader("SHOWCASE_WAIT=2h0m", "SHOWCASE_DB__PASSWORD_FILE="+secret).Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := eff.WriteTo(&out)
	if err != nil || n != int64(out.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, out.Len())
	}
	dump := out.String()

	wantLines := map[string]string{
		"name":           `name = "quote\" tab\t nul\u0000"  # ` + home,
		"wait":           `wait = "2h"  # env SHOWCASE_WAIT`,
		"limit":          `limit = "1MiB"  # default`,
		"ratio":          `ratio = 2.0  # ` + home,
		"small":          `small = -5  # ` + home,
		"tags":           `tags = ["a", "b"]  # default`,
		"db.password":    `db.password = "[redacted]"  # env SHOWCASE_DB__PASSWORD_FILE via db.password_file`,
		"debug":          `debug = false  # default`,
		"count":          `count = 0  # default`,
		"layers.sys1":    `layers.sys1 = "default"  # default`,
		"db.user":        `db.user = ""  # default`,
		"port":           `port = 8080  # default`,
		"layers.env":     `layers.env = "default"  # default`,
		"layers.home":    `layers.home = "default"  # default`,
		"layers.sys2":    `layers.sys2 = "default"  # default`,
		"layers.work":    `layers.work = "default"  # default`,
		"layers.default": `layers.default = "default"  # default`,
	}
	lines := strings.Split(strings.TrimSuffix(dump, "\n"), "\n")
	if len(lines) != len(wantLines) {
		t.Fatalf("dump has %d lines, want %d:\n%s", len(lines), len(wantLines), dump)
	}
	for i, line := range lines {
		key, _, _ := strings.Cut(line, " ")
		if key != eff.Keys()[i] {
			t.Errorf("line %d is %q, want key %q (sorted)", i, key, eff.Keys()[i])
		}
		// Collapse the alignment padding before comparing.
		value, comment, _ := strings.Cut(line, "  #")
		if got := strings.TrimRight(value, " ") + "  #" + comment; got != wantLines[key] {
			t.Errorf("line %q\nwant  %q", got, wantLines[key])
		}
	}
	if strings.Contains(dump, "pw\n") {
		t.Error("dump leaks the secret")
	}

	// The dump is TOML: it reads back to the same values.
	var back map[string]any
	if err := gotoml.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("dump is not TOML: %v\n%s", err, dump)
	}
	if back["name"] != cfg.Name || back["wait"] != "2h" {
		t.Errorf("dump read back as %v", back)
	}
}

func TestEffectiveKeysAndFilesAreCopies(t *testing.T) {
	l := newLayout(t)
	l.serviceFile(l.home, "")
	cfg := defaultTestConfig()
	eff, err := l.loader().Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	keys := eff.Keys()
	if !slices.IsSorted(keys) || slices.Contains(keys, "db.password_file") || !slices.Contains(keys, "db.password") {
		t.Errorf("Keys() = %q; want sorted leaf keys without _file siblings", keys)
	}
	keys[0] = "changed"
	eff.Files()[0] = "changed"
	if eff.Keys()[0] == "changed" || eff.Files()[0] == "changed" {
		t.Error("Keys/Files expose internal slices")
	}
}

func TestRenderValue(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{0.5, "0.5"},
		{1e21, "1e+21"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	}
	for _, tt := range tests {
		if got := formatFloat(tt.in); got != tt.want {
			t.Errorf("formatFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := quote("a\"b\\c\nd\x01\x7fé"), `"a\"b\\c\nd\u0001\u007Fé"`; got != want {
		t.Errorf("quote = %s, want %s", got, want)
	}
}
