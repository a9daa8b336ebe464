package main

import (
	"net/http"
	"testing"

	"github.com/troupehq/troupe/internal/redistest"
	"github.com/troupehq/troupe/service/servicetest"
)

// TestShowcaseRateLimits checks the showcase's default limit (60/min per
// anonymous IP), an override from the environment, and the Redis store
// chosen by SHOWCASE_REDIS__URL alone.
func TestShowcaseRateLimits(t *testing.T) {
	svc := servicetest.Start(t, "showcase", nil, testOptions()...)
	var last *http.Response
	for range 61 {
		last, _ = svc.Do(t, http.MethodGet, "/api/v2/notes/1", "", nil)
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("61st anonymous request in a minute: %d, want 429 with Retry-After", last.StatusCode)
	}

	redis := redistest.Start(t)
	// A generous Redis budget: on a loaded CI machine running race tests,
	// scheduling alone can exceed the 50ms default and leave a decision to
	// the failure policy, which would miscount.
	env := map[string]string{"RATE_LIMIT__PER_IP_RPM": "2", "REDIS__URL": redis.URL(), "REDIS__TIMEOUT": "1s"}
	one := servicetest.Start(t, "showcase", env, testOptions()...)
	two := servicetest.Start(t, "showcase", env, testOptions()...)
	codes := []int{}
	for _, s := range []*servicetest.Service{one, two, one} {
		resp, _ := s.Do(t, http.MethodGet, "/api/v2/notes/1", "", nil)
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Errorf("two showcase instances sharing 2/min through Redis: %v, want 200 200 429", codes)
	}
}
