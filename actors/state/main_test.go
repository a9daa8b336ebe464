package state

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no store, client or test server leaves a goroutine
// behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
