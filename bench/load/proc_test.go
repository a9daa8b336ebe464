package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// Field 2 holds spaces and parentheses; utime (14) = 150 and stime (15)
	// = 52 ticks of 10 ms.
	stat := "4242 (troupe (load) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 52 0 0 20 0 9 0 12345 1234567 890 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 2020*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 2.02s", got, err)
	}
	for _, bad := range []string{"", "4242 no parens S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 u 52"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded", bad)
		}
	}
}

func TestProcessCPUAndRSSOfThisProcess(t *testing.T) {
	requireLinux(t)
	cpu, err := processCPU(os.Getpid())
	if err != nil || cpu < 0 {
		t.Errorf("processCPU(self) = %v, %v", cpu, err)
	}
	rss, err := processRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("processRSS(self) = %d, %v; want at least 1 MiB", rss, err)
	}
}

func TestParseStatusField(t *testing.T) {
	status := "Name:\tload\nVmPeak:\t  20000 kB\nVmRSS:\t    7600 kB\nCpus_allowed_list:\t1\n"
	rss, err := parseStatusField([]byte(status), "VmRSS")
	if err != nil || rss != "7600 kB" {
		t.Fatalf("VmRSS = %q, %v", rss, err)
	}
	if n, err := parseKB(rss); err != nil || n != 7600*1024 {
		t.Errorf("parseKB(%q) = %d, %v", rss, n, err)
	}
	if cpus, err := parseStatusField([]byte(status), "Cpus_allowed_list"); err != nil || cpus != "1" {
		t.Errorf("Cpus_allowed_list = %q, %v", cpus, err)
	}
	if _, err := parseStatusField([]byte(status), "VmSwap"); err == nil || !strings.Contains(err.Error(), "no VmSwap") {
		t.Errorf("missing key: err = %v", err)
	}
	for _, bad := range []string{"7600", "7600 MB", "x kB"} {
		if _, err := parseKB(bad); err == nil {
			t.Errorf("parseKB(%q) succeeded", bad)
		}
	}
}
