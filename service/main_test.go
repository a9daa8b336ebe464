package service

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestMainPrintsEffectiveConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	l := testLoader(t, map[string]string{"HTTP__BODY_LIMIT": "1KiB"})
	code := mainWith(context.Background(), "test", []string{"-print-config"}, &stdout, &stderr, WithConfigLoader(l))
	if code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, stderr.String())
	}
	mustContain(t, stdout.String(), "http.body_limit", "1KiB", "TEST_HTTP__BODY_LIMIT", "http.address")
}

func TestMainFailsOnBadConfigAndBadFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	l := testLoader(t, map[string]string{"NOPE": "1"})
	if code := mainWith(context.Background(), "test", nil, &stdout, &stderr, WithConfigLoader(l)); code != 1 {
		t.Fatalf("bad config: exit code %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "nope") {
		t.Errorf("stderr does not name the unknown key: %s", stderr.String())
	}
	if code := mainWith(context.Background(), "test", []string{"-bogus"}, &stdout, &stderr); code != 2 {
		t.Fatalf("bad flag: exit code %d, want 2", code)
	}
}

func TestMainRunsUntilContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	l := testLoader(t, nil)
	if code := mainWith(ctx, "test", nil, &stdout, &stderr, WithConfigLoader(l), WithLogOutput(&stderr)); code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, stderr.String())
	}
}
