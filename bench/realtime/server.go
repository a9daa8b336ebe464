package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// A server is one measured realtime server, started in this process.
type server struct {
	// Hello is what the harness needs to reach it.
	hello
	// conns counts its open connections.
	conns func() int
	// publish publishes data to the broadcast room.
	publish func(data []byte) error
	stop    func() error
}

// hello is the line a server process writes to its stdout once it serves.
type hello struct {
	Base     string `json:"base"`      // ws://host:port
	EchoPath string `json:"echo_path"` // idle and echo connections
	RoomPath string `json:"room_path"` // subscribers of the broadcast room
	Control  string `json:"control"`   // host:port of the control listener
}

// stats is a server process's own account of itself.
type stats struct {
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Goroutines int    `json:"goroutines"`
	CPU        int64  `json:"cpu_ns"` // user + system time of the process
	Conns      int    `json:"conns"`
}

// serve is the server role: it starts the server of kind, announces it,
// and serves until stdin ends (the harness closes it, or dies).
func serve(kind string) error {
	start := map[string]func() (*server, error){"troupe": startTroupe, "centrifuge": startCentrifuge}[kind]
	if start == nil {
		return fmt.Errorf("unknown server %q", kind)
	}
	srv, err := start()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, srv.control()) }()
	srv.Control = ln.Addr().String()
	if err := json.NewEncoder(os.Stdout).Encode(srv.hello); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	return srv.stop()
}

// control serves /stats (after a GC with ?gc=1) and /publish?count=&rate=,
// which publishes count messages carrying their publication time at rate
// per second and returns when the last is published.
func (s *server) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
			runtime.GC() // the second frees what the first's finalizers released
		}
		_ = json.NewEncoder(w).Encode(s.stats())
	})
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		rate, _ := strconv.Atoi(r.URL.Query().Get("rate"))
		if err := s.publishPaced(count, rate); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

func (s *server) stats() stats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return stats{
		HeapInuse: m.HeapInuse, StackInuse: m.StackInuse, Goroutines: runtime.NumGoroutine(),
		CPU: ru.Utime.Nano() + ru.Stime.Nano(), Conns: s.conns(),
	}
}

// publishPaced publishes on a fixed schedule; each message carries the
// time it was published, in Unix nanoseconds, which the clients subtract
// from the time they receive it.
func (s *server) publishPaced(count, rate int) error {
	interval := time.Second / time.Duration(max(rate, 1))
	next := time.Now()
	for range count {
		time.Sleep(time.Until(next))
		if err := s.publish(stamp(time.Now())); err != nil {
			return err
		}
		next = next.Add(interval)
	}
	return nil
}

// stamp is a message carrying t: {"ts":<unix nanoseconds>}.
func stamp(t time.Time) []byte {
	return append(strconv.AppendInt([]byte(`{"ts":`), t.UnixNano(), 10), '}')
}
