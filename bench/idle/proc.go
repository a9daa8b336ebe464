package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memory is one reading of a process's resident memory, in KiB: the
// totals of /proc/<pid>/status and where they sit, from /proc/<pid>/smaps.
type memory struct {
	VmRSS, RssAnon, RssFile uint64

	// ExeText, ExeRodata and ExeData are the resident pages of the
	// program's own executable, read-only (rodata, pclntab) and writable
	// (data, bss) mappings. Text and rodata are file-backed: the kernel
	// maps them in 64 KiB windows around each page touched (fault-around),
	// so they grow with how many places in the binary start-up runs, not
	// with how much it runs.
	ExeText, ExeRodata, ExeData uint64
	// Libs is the resident file-backed memory of every other file (libc,
	// the dynamic loader).
	Libs uint64
	// AnonExec is anonymous executable memory: machine code wazero
	// compiled from WASM components.
	AnonExec uint64
	// AnonData is every other anonymous mapping: the Go heap and its
	// metadata, goroutine and thread stacks, WASM linear memories.
	AnonData uint64
}

// readMemory reads pid's memory.
func readMemory(pid int) (memory, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return memory{}, err
	}
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil {
		return memory{}, err
	}
	smaps, err := os.ReadFile(filepath.Join(dir, "smaps"))
	if err != nil {
		return memory{}, err
	}
	var m memory
	if err := parseStatus(status, &m); err != nil {
		return memory{}, err
	}
	if err := parseSmaps(smaps, exe, &m); err != nil {
		return memory{}, err
	}
	return m, nil
}

// parseStatus fills m's totals from the contents of /proc/<pid>/status.
func parseStatus(data []byte, m *memory) error {
	for _, f := range []struct {
		key string
		dst *uint64
	}{{"VmRSS", &m.VmRSS}, {"RssAnon", &m.RssAnon}, {"RssFile", &m.RssFile}} {
		v, err := statusKB(data, f.key)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	return nil
}

// statusKB returns the "<n> kB" value of key in a status file.
func statusKB(data []byte, key string) (uint64, error) {
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		n, ok := strings.CutSuffix(strings.TrimSpace(v), " kB")
		if !ok {
			return 0, fmt.Errorf("status %s: %q is not in kB", key, strings.TrimSpace(v))
		}
		return strconv.ParseUint(n, 10, 64)
	}
	return 0, fmt.Errorf("status: no %s", key)
}

// parseSmaps adds each mapping's Rss in the contents of /proc/<pid>/smaps
// to m's breakdown; exe is the program's path, which names its own
// mappings.
func parseSmaps(data []byte, exe string, m *memory) error {
	var dst *uint64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if rss, ok := strings.CutPrefix(line, "Rss:"); ok {
			if dst == nil {
				return fmt.Errorf("smaps: Rss before any mapping")
			}
			n, ok := strings.CutSuffix(strings.TrimSpace(rss), " kB")
			if !ok {
				return fmt.Errorf("smaps: Rss %q is not in kB", rss)
			}
			v, err := strconv.ParseUint(n, 10, 64)
			if err != nil {
				return fmt.Errorf("smaps: Rss: %w", err)
			}
			*dst += v
			continue
		}
		if f := strings.Fields(line); len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			dst = m.class(f, exe)
		}
	}
	return sc.Err()
}

// class returns which of m's counters a mapping's header line (split into
// fields: range, perms, offset, dev, inode, [path]) adds to.
func (m *memory) class(f []string, exe string) *uint64 {
	perms, path := f[1], ""
	if len(f) >= 6 {
		path = strings.Join(f[5:], " ")
	}
	inode := f[4]
	switch {
	case path == exe || path == exe+" (deleted)":
		switch {
		case strings.Contains(perms, "x"):
			return &m.ExeText
		case strings.Contains(perms, "w"):
			return &m.ExeData
		default:
			return &m.ExeRodata
		}
	case inode != "0":
		return &m.Libs
	case strings.Contains(perms, "x"):
		return &m.AnonExec
	default:
		return &m.AnonData
	}
}
