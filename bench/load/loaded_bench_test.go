package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// loadedClients is how many distinct callers the loaded benchmark
	// spreads its requests over: each its own IP and, for the full server,
	// its own principal, so the rate limiter, token cache and decision cache
	// hold many entries and goroutines rarely share one, as under load.
	loadedClients = 1024
	// loadedConcurrency is how many requests are in flight at once: the
	// pinned harness's default connections.
	loadedConcurrency = 32
)

// BenchmarkLoaded serves GET /api/v1/hello through each measured server's
// whole handler (the service's chain, metrics and access log included) from
// loadedConcurrency goroutines at once, over loadedClients distinct clients:
// the state and contention the pinned harness's load creates, without its
// sockets, so a regression of the loaded per-request cost shows up in
// go test -bench. Besides ns/op (wall time, all cores together) it reports
// cpu-ns/op: the process's CPU time per request, GC included, which is what
// the harness's "server CPU per request" measures minus the network I/O.
//
//	go test -run '^$' -bench Loaded -count 6 ./bench/load/
func BenchmarkLoaded(b *testing.B) {
	for _, k := range serverKinds {
		b.Run(k.key, func(b *testing.B) {
			srv, err := k.start()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if err := srv.Stop(); err != nil {
					b.Error(err)
				}
			})
			reqs, err := loadedRequests(k, loadedClients)
			if err != nil {
				b.Fatal(err)
			}
			// RunParallel starts parallelism × GOMAXPROCS goroutines.
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((loadedConcurrency + procs - 1) / procs)
			var next atomic.Int64
			b.ReportAllocs()
			cpu0, cpuErr := processCPU(os.Getpid())
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine cycles through its own stride of the
				// clients, so none reuses a request another is serving.
				g := int(next.Add(1) - 1)
				w := newDiscardWriter()
				for i := g; pb.Next(); i += loadedConcurrency {
					w.reset()
					srv.Handler.ServeHTTP(w, reqs[i%len(reqs)])
					if w.code != http.StatusOK {
						b.Errorf("%s: status %d", k.name, w.code)
						return
					}
				}
			})
			b.StopTimer()
			if cpu1, err := processCPU(os.Getpid()); cpuErr == nil && err == nil {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// loadedRequests builds one request per client: its own remote IP
// (10.0.0.0/8, no proxy headers) and kind's Authorization for it.
func loadedRequests(kind serverKind, clients int) ([]*http.Request, error) {
	reqs := make([]*http.Request, clients)
	for i := range reqs {
		r := httptest.NewRequest(http.MethodGet, helloPath, nil)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:%d", i>>16&0xff, i>>8&0xff, i&0xff, 40000+i%20000)
		auth, err := kind.authorization(i)
		if err != nil {
			return nil, err
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		reqs[i] = r
	}
	return reqs, nil
}

// discardWriter is a reusable http.ResponseWriter that keeps only the
// status, so the benchmark measures the handler, not a recorder's buffers.
type discardWriter struct {
	header http.Header
	code   int
}

func newDiscardWriter() *discardWriter { return &discardWriter{header: http.Header{}} }

func (w *discardWriter) reset() {
	clear(w.header)
	w.code = 0
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}

// Flush lets middleware that flushes (streaming, compression) run as it
// would on a real connection.
func (w *discardWriter) Flush() {}

// TestLoadedBenchmarkRequests checks what the loaded benchmark relies on:
// every client is distinct, and every server answers every client 200 —
// the full one included, so the tokens are valid and the rate limits do
// not bite at loadedClients callers.
func TestLoadedBenchmarkRequests(t *testing.T) {
	for _, k := range serverKinds {
		t.Run(k.key, func(t *testing.T) {
			srv, err := k.start()
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := srv.Stop(); err != nil {
					t.Error(err)
				}
			}()
			reqs, err := loadedRequests(k, loadedClients)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			w := newDiscardWriter()
			for _, r := range reqs {
				key := r.RemoteAddr + " " + r.Header.Get("Authorization")
				if seen[key] {
					t.Fatalf("client %q appears twice", key)
				}
				seen[key] = true
				w.reset()
				srv.Handler.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					t.Fatalf("%s from %s: status %d", k.name, r.RemoteAddr, w.code)
				}
			}
		})
	}
}

// BenchmarkLoadedLoopback is BenchmarkLoaded over real loopback
// connections: each server listens as it does in production, and
// loadedConcurrency keep-alive connections of the raw generator load it, so
// the connection layer (deadlines, header bytes written, syscalls) counts
// too. The generator runs in the same process, so cpu-ns/op includes its
// cost; it is the same for every server, so compare the differences to
// bare-echo, not the absolute figures.
//
//	go test -run '^$' -bench LoadedLoopback -count 6 ./bench/load/
func BenchmarkLoadedLoopback(b *testing.B) {
	for _, k := range serverKinds {
		b.Run(k.key, func(b *testing.B) {
			srv, err := k.start()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if err := srv.Stop(); err != nil {
					b.Error(err)
				}
			})
			reqs, err := workerRequests(k, srv.Addr, loadedConcurrency)
			if err != nil {
				b.Fatal(err)
			}
			conns := make([]*rawConn, len(reqs))
			for i := range conns {
				if conns[i], err = dialRaw(b.Context(), srv.Addr, time.Now().Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
				defer conns[i].close()
			}
			var issued atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			cpu0, cpuErr := processCPU(os.Getpid())
			b.ResetTimer()
			for i, c := range conns {
				wg.Go(func() {
					body := make([]byte, 0, 512)
					for issued.Add(1) <= int64(b.N) {
						resp, err := c.roundTrip(reqs[i], body)
						if err == nil {
							err = checkResponse(resp)
						}
						if err != nil {
							b.Errorf("%s: %v", k.name, err)
							return
						}
						body = resp.body[:0]
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if cpu1, err := processCPU(os.Getpid()); cpuErr == nil && err == nil {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
