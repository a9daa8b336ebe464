// Command realtime measures Troupe's realtime server against a minimal
// server on centrifugal/centrifuge, the library under Centrifugo, with the
// same workloads in one run (docs/benchmarks.md#realtime):
//
//   - idle connections: the server's heap in use plus goroutine stacks per
//     open connection, and the rate at which they were opened (upgrades per
//     second, each with its own JWT, through Troupe's whole chain);
//   - echo: round-trip latency at a fixed total rate of messages across
//     many connections, paced open-loop so a slow server cannot slow the
//     load down;
//   - broadcast: one room of N subscribers, publications at a fixed rate
//     from the server, delivery latency and the server's CPU time per
//     delivered message.
//
// Every server runs in a process of its own (this binary, re-executed with
// RTBENCH_SERVER=<kind> in its environment) and the clients in this one, connecting from several
// 127.0.0.x source addresses so that 15,000 connections do not exhaust one
// address's ephemeral ports. Each process may hold 20,000 open files here.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// options are the command line's settings of a run.
type options struct {
	servers    []string
	idleConns  []int
	dialers    int
	sources    int
	echoConns  int
	echoRate   int
	echoTime   time.Duration
	bcastConns int
	bcastRate  int
	bcastTime  time.Duration
}

// serverEnv names the server a re-executed harness runs instead.
const serverEnv = "RTBENCH_SERVER"

// serverMain runs the server named by serverEnv, when it is set, and
// exits.
func serverMain() {
	kind := os.Getenv(serverEnv)
	if kind == "" {
		return
	}
	if err := serve(kind); err != nil {
		fmt.Fprintf(os.Stderr, "server %s: %v\n", kind, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func main() {
	serverMain()
	var o options
	var servers, idle string
	flag.StringVar(&servers, "servers", "troupe,centrifuge", "servers to measure, in order")
	flag.StringVar(&idle, "conns", "2000", "idle connections to open, comma-separated for several rounds (at most 15000: 20,000 files per process)")
	flag.IntVar(&o.dialers, "dialers", 64, "connections opened concurrently")
	flag.IntVar(&o.sources, "sources", 4, "source addresses 127.0.0.2 onwards")
	flag.IntVar(&o.echoConns, "echo-conns", 1000, "echo: connections")
	flag.IntVar(&o.echoRate, "echo-rate", 5000, "echo: messages per second across all connections")
	flag.DurationVar(&o.echoTime, "echo-time", 10*time.Second, "echo: measured time, after a 2 s warm-up")
	flag.IntVar(&o.bcastConns, "broadcast-conns", 1000, "broadcast: subscribers of the room")
	flag.IntVar(&o.bcastRate, "broadcast-rate", 10, "broadcast: publications per second")
	flag.DurationVar(&o.bcastTime, "broadcast-time", 10*time.Second, "broadcast: measured time")
	flag.Parse()
	o.servers = strings.Split(servers, ",")
	for _, s := range strings.Split(idle, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 || n > 15000 {
			fmt.Fprintf(os.Stderr, "-conns: %q is not between 1 and 15000\n", s)
			os.Exit(2)
		}
		o.idleConns = append(o.idleConns, n)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "realtime: %v\n", err)
		os.Exit(1)
	}
}
