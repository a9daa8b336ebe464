package main

import (
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	serverMain() // the test binary is the server process too
	os.Exit(m.Run())
}

// TestSmall runs every workload against both servers at tiny sizes: every
// message arrives, and the figures are plausible.
func TestSmall(t *testing.T) {
	o := options{
		servers: []string{"troupe", "centrifuge"}, idleConns: []int{50}, dialers: 8, sources: 2,
		echoConns: 20, echoRate: 200, echoTime: time.Second,
		bcastConns: 20, bcastRate: 10, bcastTime: time.Second,
	}
	for _, kind := range o.servers {
		r, err := measure(kind, o)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if i := r.idle[0]; i.heap+i.stack <= 0 || i.goroutines < 1 || i.upgrades <= 0 {
			t.Errorf("%s idle: %+v", kind, i)
		}
		for name, l := range map[string]latencyResult{"echo": r.echo, "broadcast": r.broadcast} {
			if l.got != l.expected || l.expected == 0 || l.p99 <= 0 || l.cpuPerMsg <= 0 {
				t.Errorf("%s %s: %+v", kind, name, l)
			}
		}
	}
}

func TestParseStamp(t *testing.T) {
	now := time.Now()
	for _, b := range []string{string(stamp(now)), `{"push":{"channel":"bench","pub":{"data":` + string(stamp(now)) + `}}}`} {
		if ts, ok := parseStamp([]byte(b)); !ok || ts != now.UnixNano() {
			t.Errorf("parseStamp(%s) = %d, %v", b, ts, ok)
		}
	}
	if _, ok := parseStamp([]byte(`{"type":"joined"}`)); ok {
		t.Error("a message without a stamp has one")
	}
}
