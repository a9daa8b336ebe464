package service

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// maxInitBytes bounds what each Troupe package allocates at init. Every
// program that imports service runs every one of those inits, whatever its
// config turns on, and what they keep is resident for the process's life:
// regexps with bounded repeats and the console's templates once held 1.1 MB
// of it (docs/benchmarks.md, idle memory). The largest today is authz's, 19
// KB.
const maxInitBytes = 32 << 10

// TestInitAllocations runs this test binary again with
// GODEBUG=inittrace=1 and no test, and checks each Troupe package's init
// against maxInitBytes.
func TestInitAllocations(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("re-running the test binary: %v\n%s", err, stderr.Bytes())
	}
	seen := 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		// init <pkg> @<t> ms, <t> ms clock, <n> bytes, <m> allocs
		f := strings.Fields(sc.Text())
		if len(f) < 9 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		pkg := f[1]
		if !strings.HasPrefix(pkg, "github.com/troupehq/troupe/") || strings.HasSuffix(pkg, "/service") {
			continue
		}
		seen++
		n, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		if n > maxInitBytes {
			t.Errorf("package %s allocates %d bytes at init, over %d: make what it builds lazy", pkg, n, maxInitBytes)
		}
	}
	if seen < 5 {
		t.Fatalf("inittrace named %d Troupe packages; the format changed?\n%s", seen, stderr.Bytes())
	}
}
