package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// burst asks addr for paths in turn over concurrency keep-alive
// connections for d, and returns how many requests were answered. Any
// answer but 200 fails it: memory after a burst of errors would not be
// memory after load.
func burst(addr string, paths []string, concurrency int, d time.Duration) (int, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: concurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var (
		done     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for c := range concurrency {
		wg.Go(func() {
			for i := c; time.Now().Before(deadline); i++ {
				if err := get(client, "http://"+addr+paths[i%len(paths)]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return int(done.Load()), firstErr
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return err
}
