package resilience

import (
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Every exported config of this package has a Validate method that reports
// all of its problems at once, each a *fielderr.Error naming the Go field
// ("Breaker.FailureRatio"), so that a service that filled the config from
// its keys can name the key and where it came from.
//
// Validate judges a config as given, the way a service fills it from keys
// that always carry a value: a zero is reported wherever it cannot mean
// "off" or "none". The constructors are kinder to configs written by hand:
// they first give such zero fields their DefaultXConfig values, then panic
// on whatever Validate still rejects, a wiring mistake found at start-up.

// positive reports a duration that must be greater than zero.
func positive(field string, d time.Duration) error {
	if d <= 0 {
		return fielderr.New(field, "must be greater than 0, got %s", d)
	}
	return nil
}

// notNegative reports a count or duration below zero, where zero means
// "none" or "at once".
func notNegative[T int | time.Duration](field string, v T) error {
	if v < 0 {
		return fielderr.New(field, "must not be negative, got %v", v)
	}
	return nil
}
