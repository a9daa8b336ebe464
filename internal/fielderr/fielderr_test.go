package fielderr

import (
	"errors"
	"testing"
)

func TestKey(t *testing.T) {
	for field, want := range map[string]string{
		"FailureRatio":               "resilience.failure_ratio",
		"Breaker.FailureRatio":       "resilience.breaker.failure_ratio",
		"JWKSRefresh":                "resilience.jwks_refresh",
		"URLs":                       "resilience.urls",
		"MaxTokenSize":               "resilience.max_token_size",
		"HTTPClient":                 "resilience.http_client",
		"MaxConcurrentPerHost":       "resilience.max_concurrent_per_host",
		"HMACSecret":                 "resilience.hmac_secret",
		"Client.Breaker.MinRequests": "resilience.client.breaker.min_requests",
	} {
		if got := Key("resilience", field); got != want {
			t.Errorf("Key(%q) = %q, want %q", field, got, want)
		}
	}
	if got := Key("", "Timeout"); got != "timeout" {
		t.Errorf("Key without a section = %q", got)
	}
}

func TestPrefixAndAll(t *testing.T) {
	plain := errors.New("no store")
	err := errors.Join(New("FailureRatio", "must be at most 1, got %v", 2.0), plain, errors.Join(New("MinRequests", "must be at least 1")))
	got := All(Prefix("Breaker", err))
	if len(got) != 3 {
		t.Fatalf("All = %v", got)
	}
	var fe *Error
	if !errors.As(got[0], &fe) || fe.Field != "Breaker.FailureRatio" || fe.Error() != "Breaker.FailureRatio: must be at most 1, got 2" {
		t.Errorf("first = %v", got[0])
	}
	if got[1] != plain {
		t.Errorf("a plain error was changed: %v", got[1])
	}
	if !errors.As(got[2], &fe) || fe.Field != "Breaker.MinRequests" {
		t.Errorf("a nested join lost its field: %v", got[2])
	}
	if Prefix("X", nil) != nil || All(nil) != nil {
		t.Error("nil in, non-nil out")
	}
}
