//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

// maxCPU bounds the CPU numbers the pinned mode accepts.
const maxCPU = 1024

// errNotLinux is what the pinned mode answers elsewhere: it sets CPU
// affinity with sched_setaffinity and reads /proc.
var errNotLinux = errors.New("the pinned mode needs Linux (sched_setaffinity, /proc)")

func allowedCPUs() ([]int, error) { return nil, errNotLinux }

func pinProcess(int) (func() error, error) { return nil, errNotLinux }

func startPinned(*exec.Cmd, int) error { return errNotLinux }
