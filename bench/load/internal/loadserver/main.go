package loadserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// ReadyPrefix starts the line a server binary writes to its stdout once it
// listens; the address follows.
const ReadyPrefix = "listening "

// ExitWithStdinFlag is the flag that makes a server binary stop when its
// stdin ends. The harness sets it and closes the pipe to stop the server;
// the pipe also closes if the harness dies, so no server outlives it.
const ExitWithStdinFlag = "exit-with-stdin"

// Main is a server binary's main: it parses the command line (the binary
// may define flags of its own before calling it), starts the server, prints
// ReadyPrefix and the address, and serves until SIGINT or SIGTERM — or, with
// -exit-with-stdin, until stdin ends — then shuts down and exits.
func Main(start func() (*Server, error)) {
	exitWithStdin := flag.Bool(ExitWithStdinFlag, false, "also stop when stdin ends (the harness's way to stop the server)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole serving time to this file")
	flag.Parse()
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
			os.Exit(1)
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}
	if err := Serve(ctx, start, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
		stop()
		os.Exit(1)
	}
}

// startCPUProfile profiles the server from start to stop, so that a load
// run against the pinned process can be read with go tool pprof.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// Serve starts a server with start, announces its address on out and
// serves until ctx ends, then shuts the server down.
func Serve(ctx context.Context, start func() (*Server, error), out io.Writer) error {
	srv, err := start()
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "%s%s\n", ReadyPrefix, srv.Addr); err != nil {
		return errors.Join(err, srv.Stop())
	}
	<-ctx.Done()
	return srv.Stop()
}
