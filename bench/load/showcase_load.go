package main

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// loadRoute is loadRaw for a route whose answers vary: an answer counts
// when it is a 200 whose body holds want.
func loadRoute(ctx context.Context, addr string, reqs [][]byte, want string, duration time.Duration) (*roundResult, error) {
	w := []byte(want)
	return loadChecked(ctx, addr, reqs, duration, func(r rawResponse) error {
		if r.status != 200 || !bytes.Contains(r.body, w) {
			return fmt.Errorf("status %d, body %.120q", r.status, r.body)
		}
		return nil
	})
}
