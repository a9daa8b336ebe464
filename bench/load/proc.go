package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: the kernel's
// USER_HZ, which is 100 on every architecture Go runs Linux on (only alpha
// and ia64 differ). At a server core busy for a 5 s round that is 500 ticks,
// so a round's CPU time is exact to 0.2%.
const userHZ = 100

// processCPU returns the CPU time pid has used, user plus system, summed
// over all its threads, as /proc/<pid>/stat reports it.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

// parseStatCPU extracts utime+stime (fields 14 and 15) from the contents of
// a /proc/<pid>/stat file. The command name (field 2) is in parentheses and
// may itself hold spaces and parentheses, so fields are counted from the last
// ')'.
func parseStatCPU(data []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, fmt.Errorf("stat %.40q: no command name", data)
	}
	fields := strings.Fields(string(data[end+1:])) // fields[0] is field 3, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least %d", len(fields), stime+1)
	}
	var ticks uint64
	for _, i := range []int{utime, stime} {
		n, err := strconv.ParseUint(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat field %d: %w", i+3, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// processRSS returns pid's resident set size (VmRSS) in bytes.
func processRSS(pid int) (uint64, error) {
	v, err := statusField(filepath.Join("/proc", strconv.Itoa(pid), "status"), "VmRSS")
	if err != nil {
		return 0, err
	}
	return parseKB(v)
}

// statusField returns the value of key in a /proc/…/status file.
func statusField(path, key string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return parseStatusField(data, key)
}

// parseStatusField returns the value of key in the contents of a
// /proc/…/status file ("Key:\tvalue" lines), trimmed.
func parseStatusField(data []byte, key string) (string, error) {
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && k == key {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("status: no %s line", key)
}

// parseKB parses a status value such as "7600 kB" into bytes.
func parseKB(v string) (uint64, error) {
	num, unit, _ := strings.Cut(v, " ")
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || strings.TrimSpace(unit) != "kB" {
		return 0, fmt.Errorf("status value %q is not a size in kB", v)
	}
	return n * 1024, nil
}

// threadCPUs returns the distinct Cpus_allowed_list values of pid's threads:
// one entry when every thread has the same affinity.
func threadCPUs(pid int) ([]string, error) {
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "status"))
	if err != nil {
		return nil, err
	}
	var lists []string
	for _, path := range tasks {
		v, err := statusField(path, "Cpus_allowed_list")
		if os.IsNotExist(err) {
			continue // the thread exited
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(lists, v) {
			lists = append(lists, v)
		}
	}
	return lists, nil
}
