package resilience_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/resilience"
)

// A GET that meets a restarting dependency is retried after a short,
// jittered wait, and the caller sees only the final answer.
func ExampleNewClient() {
	var calls atomic.Int64
	dependency := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "in stock")
	}))
	defer dependency.Close()

	cfg := resilience.DefaultClientConfig // two retries within a retry budget
	cfg.Timeout = 2 * time.Second
	cfg.BackoffBase = time.Millisecond
	client := resilience.NewClient(http.DefaultTransport, cfg)
	res, err := client.Get(dependency.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	fmt.Println(res.StatusCode, "after", calls.Load(), "attempts")
	// Output: 200 after 2 attempts
}
