package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxCPU bounds the CPU numbers unix.CPUSet can hold.
const maxCPU = 1024

// allowedCPUs returns the CPUs the calling thread may run on, ascending.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for cpu := range maxCPU {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}

// pinProcess moves every thread of this process onto cpu and returns a
// function that gives them back the calling thread's previous mask.
func pinProcess(cpu int) (restore func() error, err error) {
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	set.Set(cpu)
	if err := setProcessAffinity(&set); err != nil {
		return nil, errors.Join(err, setProcessAffinity(&old))
	}
	return func() error { return setProcessAffinity(&old) }, nil
}

// setProcessAffinity sets the mask of every thread of this process. Affinity
// belongs to a thread, and a new thread inherits its creator's mask; the Go
// runtime may start threads meanwhile, so passes repeat until one finds no
// thread the previous ones missed — from then on every creator is pinned.
func setProcessAffinity(set *unix.CPUSet) error {
	done := map[int]bool{}
	for {
		entries, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, e := range entries {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh = true
			done[tid] = true
			if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("sched_setaffinity(thread %d): %w", tid, err)
			}
		}
		if !fresh {
			return nil
		}
	}
}

// startPinned starts cmd with every thread of the new process confined to
// cpu. The process inherits the mask of the thread that forks it, so a
// goroutine locked to its own thread sets that thread's mask and starts cmd
// there. It returns with the thread still locked: the runtime then ends the
// thread instead of running other goroutines on it with the server's mask.
func startPinned(cmd *exec.Cmd, cpu int) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- fmt.Errorf("sched_setaffinity(cpu %d): %w", cpu, err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}
