package natsnode

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// rssModes are the processes TestIdleRSS compares: nothing started, a
// connection to an external NATS, and the embedded server with JetStream
// in memory or on disk, each with one KV bucket as a service would make.
var rssModes = []string{"off", "external", "embedded-memory", "embedded-file"}

// rssIdle is how long a measured process idles before it is measured, so
// that start-up garbage is collected and background timers have run.
const rssIdle = 2 * time.Second

// TestIdleRSS measures the resident memory of an idle process in each of
// rssModes, as child processes of this test binary (so every mode carries
// the same code), and checks that the embedded server costs less than
// maxEmbeddedRSS. It runs only when asked, since it takes ~20 s:
//
//	NATSNODE_RSS=1 go test -run TestIdleRSS -v ./internal/natsnode
func TestIdleRSS(t *testing.T) {
	if os.Getenv("NATSNODE_RSS") == "" {
		t.Skip("set NATSNODE_RSS=1 to measure idle RSS (docs/benchmarks.md#cluster)")
	}
	// maxEmbeddedRSS bounds what the embedded server may add: a service
	// that turns NATS on should not need a bigger container for it.
	const maxEmbeddedRSS = 64 << 20
	external := natstest.Run(t)
	median := map[string]int64{}
	for _, mode := range rssModes {
		var runs []int64
		for range 3 {
			runs = append(runs, childRSS(t, mode, external.ClientURL()))
		}
		slices.Sort(runs)
		median[mode] = runs[1]
		t.Logf("%-16s RSS %6.1f MiB (runs %v)", mode, mib(runs[1]), runs)
	}
	for _, mode := range rssModes[1:] {
		t.Logf("%-16s adds %5.1f MiB", mode, mib(median[mode]-median["off"]))
	}
	for _, mode := range []string{"embedded-memory", "embedded-file"} {
		if d := median[mode] - median["off"]; d > maxEmbeddedRSS {
			t.Errorf("%s adds %.1f MiB, more than %.0f MiB", mode, mib(d), mib(maxEmbeddedRSS))
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// childRSS runs TestRSSChild in mode and returns the RSS it reports.
func childRSS(t *testing.T, mode, url string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v")
	cmd.Env = append(os.Environ(), "NATSNODE_RSS_CHILD="+mode, "NATSNODE_RSS_URL="+url, "GOMAXPROCS=2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", mode, err, out)
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "RSS="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s: no RSS reported:\n%s", mode, out)
	return 0
}

// TestRSSChild is TestIdleRSS's measured process; it does nothing unless
// started by it.
func TestRSSChild(t *testing.T) {
	mode := os.Getenv("NATSNODE_RSS_CHILD")
	if mode == "" {
		t.Skip("run by TestIdleRSS")
	}
	var cfg Config
	switch mode {
	case "off":
	case "external":
		cfg.URL = os.Getenv("NATSNODE_RSS_URL")
	case "embedded-memory":
		cfg.JetStream.Store = StoreMemory
	case "embedded-file":
		cfg.JetStream = JetStreamConfig{Store: StoreFile, Dir: filepath.Join(t.TempDir(), "nats")}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	if mode != "off" {
		cfg.Logger, _ = testLogger()
		n := start(t, cfg)
		waitConnected(t, n)
		kv := jetstream.KeyValueConfig{Bucket: "idle", Storage: n.Storage()}
		if _, err := n.JetStream().CreateKeyValue(context.Background(), kv); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(rssIdle)
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Printf("RSS=%d\n", residentBytes(t))
}

// residentBytes reads the process's VmRSS from /proc.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
