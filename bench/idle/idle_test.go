package main

import (
	"os"
	"testing"
)

const smapsSample = `00400000-01a09000 r-xp 00000000 fe:00 10535666                           /srv/app
Size:              22564 kB
Rss:               11876 kB
01a09000-0306a000 r--p 01609000 fe:00 10535666                           /srv/app
Rss:               11652 kB
0306a000-03181000 rw-p 02c6a000 fe:00 10535666                           /srv/app
Rss:                 580 kB
03181000-051d0000 rw-p 00000000 00:00 0 
Rss:                 116 kB
2ecd19400000-2ecd19c00000 rw-p 00000000 00:00 0 
Rss:                3656 kB
7f903fba1000-7f903fcf7000 r-xp 00026000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                 828 kB
7fb2fa359000-7fb2fb7ff000 r-xp 00000000 00:00 0 
Rss:               21144 kB
7ffd1c5e1000-7ffd1c602000 rw-p 00000000 00:00 0                          [stack]
Rss:                  16 kB
VmFlags: rd wr mr mw me gd ac
`

func TestParseSmapsClassifiesMappings(t *testing.T) {
	var m memory
	if err := parseSmaps([]byte(smapsSample), "/srv/app", &m); err != nil {
		t.Fatal(err)
	}
	want := memory{ExeText: 11876, ExeRodata: 11652, ExeData: 580, Libs: 828, AnonExec: 21144, AnonData: 116 + 3656 + 16}
	if m != want {
		t.Errorf("parseSmaps = %+v, want %+v", m, want)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tapp\nVmRSS:\t   29872 kB\nRssAnon:\t    4580 kB\nRssFile:\t   25292 kB\nRssShmem:\t       0 kB\n"
	var m memory
	if err := parseStatus([]byte(status), &m); err != nil {
		t.Fatal(err)
	}
	if m.VmRSS != 29872 || m.RssAnon != 4580 || m.RssFile != 25292 {
		t.Errorf("parseStatus = %+v", m)
	}
	if err := parseStatus([]byte("VmRSS:\t1 kB\n"), &m); err == nil {
		t.Error("status without RssAnon parsed")
	}
}

func TestReadyAddr(t *testing.T) {
	for line, want := range map[string]string{
		"listening 127.0.0.1:4000": "127.0.0.1:4000",
		`{"time":"x","level":"INFO","msg":"service started","address":"127.0.0.1:4001","tls":false}`: "127.0.0.1:4001",
		`{"level":"INFO","msg":"subsystem started","address":"127.0.0.1:4002"}`:                      "",
		"started": "",
	} {
		if got, _ := readyAddr(line); got != want {
			t.Errorf("readyAddr(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestReadMemoryOfSelf reads this test's own process: the breakdown must
// account for what status reports, within what the process allocates
// between the two reads.
func TestReadMemoryOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skip("no /proc/self/smaps")
	}
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	sum := m.ExeText + m.ExeRodata + m.ExeData + m.Libs + m.AnonExec + m.AnonData
	if m.ExeText == 0 || m.ExeRodata == 0 || m.AnonData == 0 {
		t.Errorf("breakdown misses the binary or the heap: %+v", m)
	}
	if diff := int64(sum) - int64(m.VmRSS); diff > 2048 || diff < -2048 {
		t.Errorf("breakdown sums to %d KiB, VmRSS is %d KiB", sum, m.VmRSS)
	}
}
