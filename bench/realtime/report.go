package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// report prints one table per workload, a row per server, and the ratio
// of each figure to the last server's (the baseline, centrifuge by
// default).
func report(out io.Writer, o options, rs []result) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	base := rs[len(rs)-1]
	for i := range o.idleConns {
		fmt.Fprintf(w, "idle: %d connections\theap/conn\tstacks/conn\theap+stacks\tratio\tgoroutines/conn\tupgrades/s\tratio\t\n", o.idleConns[i])
		b := base.idle[i]
		for _, r := range rs {
			d := r.idle[i]
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.0f\t%.2f\t\n", r.kind, kb(d.heap), kb(d.stack), kb(d.heap+d.stack),
				(d.heap+d.stack)/(b.heap+b.stack), d.goroutines, d.upgrades, d.upgrades/b.upgrades)
		}
		fmt.Fprintln(w, "\t\t\t\t\t\t\t\t")
	}
	fmt.Fprintf(w, "echo: %d conns, %d msg/s, %s\tp50\tp99\tmax\tp99 ratio\treplies/sent\tCPU/msg\t\n", o.echoConns, o.echoRate, o.echoTime)
	for _, r := range rs {
		latencyRow(w, r.kind, r.echo, base.echo)
	}
	fmt.Fprintln(w, "\t\t\t\t\t\t\t")
	fmt.Fprintf(w, "broadcast: %d subscribers, %d pub/s, %s\tp50\tp99\tmax\tp99 ratio\tdelivered/expected\tCPU/delivery\t\n", o.bcastConns, o.bcastRate, o.bcastTime)
	for _, r := range rs {
		latencyRow(w, r.kind, r.broadcast, base.broadcast)
	}
	_ = w.Flush()
}

func latencyRow(w io.Writer, kind string, r, base latencyResult) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.2f\t%d/%d\t%s\t\n", kind, ms(r.p50), ms(r.p99), ms(r.max),
		float64(r.p99)/float64(base.p99), r.got, r.expected, r.cpuPerMsg.Round(10*time.Nanosecond))
}

func kb(b float64) string { return fmt.Sprintf("%.1f KB", b/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
