package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
)

// result gathers a target's readings over the rounds.
type result struct {
	label    string
	readings []reading
}

func (r *result) add(x reading) { r.readings = append(r.readings, x) }

// median returns the median over the rounds of the field pick reads.
func (r *result) median(pick func(reading) uint64) uint64 {
	v := make([]uint64, len(r.readings))
	for i, x := range r.readings {
		v[i] = pick(x)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// columns are the report's memory columns, in order.
var columns = []struct {
	head string
	pick func(memory) uint64
}{
	{"VmRSS", func(m memory) uint64 { return m.VmRSS }},
	{"RssAnon", func(m memory) uint64 { return m.RssAnon }},
	{"RssFile", func(m memory) uint64 { return m.RssFile }},
	{"exe text", func(m memory) uint64 { return m.ExeText }},
	{"exe rodata", func(m memory) uint64 { return m.ExeRodata }},
	{"exe data", func(m memory) uint64 { return m.ExeData }},
	{"libs", func(m memory) uint64 { return m.Libs }},
	{"anon exec", func(m memory) uint64 { return m.AnonExec }},
	{"anon data", func(m memory) uint64 { return m.AnonData }},
}

// report writes the table: one row per target and phase, medians over the
// rounds in MiB, then how it was measured.
func report(w io.Writer, cfg config, builds []build, results map[string]*result, loadBefore, loadAfter string) {
	heads := []string{"target", "when"}
	for _, c := range columns {
		heads = append(heads, c.head)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", 2)+strings.Repeat("--:|", len(columns)))
	for _, b := range builds {
		r := results[b.label]
		for _, phase := range []struct {
			name string
			mem  func(reading) memory
		}{{"start", func(x reading) memory { return x.start }}, {"after load", func(x reading) memory { return x.load }}} {
			row := []string{b.label, phase.name}
			for _, c := range columns {
				row = append(row, mib(r.median(func(x reading) uint64 { return c.pick(phase.mem(x)) })))
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
	fmt.Fprintf(w, "\nMiB, medians of %d fresh starts per target (each column its own median).\n", cfg.rounds)
	for _, b := range builds {
		r := results[b.label]
		fmt.Fprintf(w, "%s: %d requests per burst (median) over %s on %d connections (%s).\n",
			b.label, r.median(func(x reading) uint64 { return uint64(x.requests) }), cfg.burst, cfg.concurrency, strings.Join(b.t.paths, ", "))
	}
	fmt.Fprintf(w, "command: go run ./bench/idle %s\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "go: %s, %s/%s, %d CPUs; load average before %s, after %s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadBefore, loadAfter)
}

func mib(kib uint64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }
