package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// probeTimeout bounds one -probe request. A health endpoint answers within
// health.timeout (2s by default) even when a check hangs, so 5s fails only
// a process that no longer answers at all, and stays inside Docker's and
// Kubernetes' usual probe timeouts.
const probeTimeout = 5 * time.Second

// runProbe is -probe: a GET of target with no proxy and no redirects, whose
// answer becomes the exit code — 0 for 2xx, 1 for anything else, 2 for a
// target that is not an http(s) URL. Distroless and scratch images have no
// curl or wget, so the binary checks itself for a container HEALTHCHECK.
func runProbe(ctx context.Context, target string, stderr io.Writer) int {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "probe: %q is not an http or https URL\n", target)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return 2
	}
	client := &http.Client{
		// The target is the instance itself: a proxy from the environment
		// would probe something else.
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "probe: GET %s: %s\n", u.Redacted(), resp.Status)
		return 1
	}
	return 0
}
