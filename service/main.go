package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Main is the whole main function of a typical service: it parses the
// command line (-config FILE, -print-config, -probe URL), builds the service
// with New, and either prints the redacted effective configuration or runs
// the service until SIGINT/SIGTERM. -probe checks a running instance instead
// (see probe.go). It returns the process exit code, so main reads
// os.Exit(service.Main("orders", opts...)).
func Main(name string, opts ...Option) int {
	return mainWith(context.Background(), name, os.Args[1:], os.Stdout, os.Stderr, opts...)
}

func mainWith(ctx context.Context, name string, args []string, stdout, stderr io.Writer, opts ...Option) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "config file to load instead of ./config.toml")
	printConfig := fs.Bool("print-config", false, "print the effective configuration (secrets redacted) with the source of each value, and exit")
	probeURL := fs.String("probe", "", "GET this URL of a running instance (e.g. http://127.0.0.1:9090/livez) and exit 0 if it answers 2xx, else 1: a container HEALTHCHECK without curl")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *probeURL != "" {
		return runProbe(ctx, *probeURL, stderr)
	}
	if *configFile != "" {
		opts = append(opts, WithConfigFile(*configFile))
	}
	svc, err := New(name, opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *printConfig {
		if _, err := svc.EffectiveConfig().WriteTo(stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if err := svc.Run(ctx); err != nil {
		svc.Logger().Error("service stopped with an error", "error", err)
		return 1
	}
	return 0
}
