package wasm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// hostMountTree builds a mount directory with links inside and out:
//
//	mnt/f.txt, mnt/sub/g.txt
//	mnt/good -> sub             (stays inside)
//	mnt/out -> ../secret        (leaves)
//	mnt/abs -> <abs>/secret     (absolute, leaves)
//	mnt/dangle -> ../nowhere    (dangling, would create outside)
//	secret/s.txt
func hostMountTree(t *testing.T) (mnt, secret string) {
	t.Helper()
	dir := t.TempDir()
	mnt, secret = filepath.Join(dir, "mnt"), filepath.Join(dir, "secret")
	for _, d := range []string{filepath.Join(mnt, "sub"), secret} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(mnt, "f.txt"): "inside", filepath.Join(mnt, "sub", "g.txt"): "deeper",
		filepath.Join(secret, "s.txt"): "secret",
	}
	for p, data := range files {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{"good": "sub", "out": "../secret", "abs": secret, "dangle": "../nowhere"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(mnt, name)); err != nil {
			t.Fatal(err)
		}
	}
	return mnt, secret
}

func hostMount(t *testing.T, m Mount) experimentalsys.FS {
	t.Helper()
	fsys, err := mountFS(m)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// hostReadFile opens p in fsys and returns its content, or the errno.
func hostReadFile(fsys experimentalsys.FS, p string) (string, experimentalsys.Errno) {
	f, errno := fsys.OpenFile(p, experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		return "", errno
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, errno := f.Read(buf)
	return string(buf[:n]), errno
}

func TestConfinedFSReads(t *testing.T) {
	mnt, _ := hostMountTree(t)
	fsys := hostMount(t, Mount{HostPath: mnt, ReadOnly: true})
	for _, tc := range []struct {
		path  string
		want  string
		errno experimentalsys.Errno
	}{
		{"f.txt", "inside", 0},
		{"/f.txt", "inside", 0},
		{"sub/g.txt", "deeper", 0},
		{"good/g.txt", "deeper", 0}, // a link that stays inside is followed
		{"sub/../f.txt", "inside", 0},
		{"../secret/s.txt", "", experimentalsys.EPERM},
		{"sub/../../secret/s.txt", "", experimentalsys.EPERM},
		{"out/s.txt", "", experimentalsys.EPERM},
		{"abs/s.txt", "", experimentalsys.EPERM},
		{"missing", "", experimentalsys.ENOENT},
		{"f.txt/x", "", experimentalsys.ENOTDIR},
	} {
		got, errno := hostReadFile(fsys, tc.path)
		if got != tc.want || errno != tc.errno {
			t.Errorf("read %q = %q, %v; want %q, %v", tc.path, got, errno, tc.want, tc.errno)
		}
	}
	if _, errno := fsys.Stat("out"); errno != experimentalsys.EPERM {
		t.Errorf("Stat(out) = %v, want EPERM", errno)
	}
	if st, errno := fsys.Lstat("out"); errno != 0 || st.Mode&os.ModeSymlink == 0 {
		t.Errorf("Lstat(out) = %v, %v; want the link itself", st.Mode, errno)
	}
	if _, errno := fsys.Readlink("out"); errno != experimentalsys.EPERM {
		t.Errorf("Readlink(out) = %v, want EPERM: the host layout stays hidden", errno)
	}
	if target, errno := fsys.Readlink("good"); errno != 0 || target != "sub" {
		t.Errorf("Readlink(good) = %q, %v", target, errno)
	}
}

func TestConfinedFSWrites(t *testing.T) {
	mnt, secret := hostMountTree(t)
	fsys := hostMount(t, Mount{HostPath: mnt})
	create := experimentalsys.O_CREAT | experimentalsys.O_WRONLY

	f, errno := fsys.OpenFile("new.txt", create, 0o644)
	if errno != 0 {
		t.Fatalf("creating new.txt: %v", errno)
	}
	f.Close()
	if errno := fsys.Mkdir("d", 0o755); errno != 0 {
		t.Fatalf("Mkdir(d): %v", errno)
	}
	if errno := fsys.Rename("new.txt", "d/new.txt"); errno != 0 {
		t.Fatalf("Rename inside: %v", errno)
	}
	if _, err := os.Stat(filepath.Join(mnt, "d", "new.txt")); err != nil {
		t.Fatalf("renamed file missing: %v", err)
	}

	refused := map[string]func() experimentalsys.Errno{
		"create through a link out": func() experimentalsys.Errno { _, e := fsys.OpenFile("out/new", create, 0o644); return e },
		"create through a dangling link": func() experimentalsys.Errno {
			_, e := fsys.OpenFile("dangle", create, 0o644)
			return e
		},
		"create above the mount":    func() experimentalsys.Errno { _, e := fsys.OpenFile("../new", create, 0o644); return e },
		"mkdir through a link out":  func() experimentalsys.Errno { return fsys.Mkdir("out/d", 0o755) },
		"rename out":                func() experimentalsys.Errno { return fsys.Rename("f.txt", "out/f.txt") },
		"rename in":                 func() experimentalsys.Errno { return fsys.Rename("out/s.txt", "stolen.txt") },
		"chmod through a link out":  func() experimentalsys.Errno { return fsys.Chmod("out/s.txt", 0o777) },
		"utimens through a link":    func() experimentalsys.Errno { return fsys.Utimens("abs/s.txt", 0, 0) },
		"unlink through a link out": func() experimentalsys.Errno { return fsys.Unlink("out/s.txt") },
		"rmdir above the mount":     func() experimentalsys.Errno { return fsys.Rmdir("../secret") },
		"symlink":                   func() experimentalsys.Errno { return fsys.Symlink("/etc", "etc") },
		"symlink inside":            func() experimentalsys.Errno { return fsys.Symlink("f.txt", "f2") },
		"hard link":                 func() experimentalsys.Errno { return fsys.Link("f.txt", "h") },
	}
	for name, op := range refused {
		if errno := op(); errno != experimentalsys.EPERM {
			t.Errorf("%s = %v, want EPERM", name, errno)
		}
	}
	entries, _ := os.ReadDir(secret)
	if len(entries) != 1 {
		t.Errorf("the outside directory changed: %v", entries)
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(mnt), "nowhere")); err == nil {
		t.Error("a file was created through the dangling link")
	}
	for _, name := range []string{"etc", "f2", "h"} {
		if _, err := os.Lstat(filepath.Join(mnt, name)); err == nil {
			t.Errorf("link %s was created", name)
		}
	}
}

func TestConfinedFSReadOnly(t *testing.T) {
	mnt, _ := hostMountTree(t)
	fsys := hostMount(t, Mount{HostPath: mnt, ReadOnly: true})
	if _, errno := fsys.OpenFile("f.txt", experimentalsys.O_WRONLY, 0); errno == 0 {
		t.Error("opened f.txt for writing on a read-only mount")
	}
	for name, flag := range map[string]experimentalsys.Oflag{
		"create":             experimentalsys.O_CREAT | experimentalsys.O_WRONLY,
		"read-only create":   experimentalsys.O_CREAT | experimentalsys.O_RDONLY, // wazero's ReadFS lets this through
		"read-only truncate": experimentalsys.O_TRUNC | experimentalsys.O_RDONLY,
		"append":             experimentalsys.O_APPEND | experimentalsys.O_RDONLY,
	} {
		if f, errno := fsys.OpenFile("f.txt", flag, 0o644); errno == 0 {
			f.Close()
			t.Errorf("%s open of f.txt succeeded on a read-only mount", name)
		}
		if f, errno := fsys.OpenFile("n.txt", flag, 0o644); errno == 0 {
			f.Close()
			t.Errorf("%s open of n.txt succeeded on a read-only mount", name)
		}
	}
	for name, errno := range map[string]experimentalsys.Errno{
		"mkdir": fsys.Mkdir("d", 0o755), "unlink": fsys.Unlink("f.txt"),
		"rename": fsys.Rename("f.txt", "g.txt"), "chmod": fsys.Chmod("f.txt", 0o777),
	} {
		if errno == 0 {
			t.Errorf("%s succeeded on a read-only mount", name)
		}
	}
	if got, errno := hostReadFile(fsys, "f.txt"); errno != 0 || got != "inside" {
		t.Errorf("read on a read-only mount = %q, %v (truncated?)", got, errno)
	}
	if _, err := os.Stat(filepath.Join(mnt, "n.txt")); err == nil {
		t.Error("n.txt exists")
	}
}

func TestMountConfigErrors(t *testing.T) {
	mnt, _ := hostMountTree(t)
	file := filepath.Join(mnt, "f.txt")
	for _, tc := range []struct {
		path, want string
	}{
		{filepath.Join(mnt, "missing"), "no such file"},
		{file, "not a directory"},
		{"relative/dir", "absolute"},
		{mnt + "/sub/..", "clean"},
	} {
		_, err := mountConfig([]Mount{{HostPath: mnt}, {HostPath: tc.path}})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("mountConfig(%q) = %v, want an error naming it and containing %q", tc.path, err, tc.want)
		}
	}
	if cfg, err := mountConfig([]Mount{{HostPath: mnt, ReadOnly: true}}); err != nil || cfg == nil {
		t.Errorf("mountConfig(valid) = %v, %v", cfg, err)
	}
}

// TestMountConfigGuest opens files from a guest through WASI path_open: the
// mount appears at its host path and its confinement holds end to end.
func TestMountConfigGuest(t *testing.T) {
	mnt, _ := hostMountTree(t)
	fsCfg, err := mountConfig([]Mount{{HostPath: mnt, ReadOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, hostCompileWAT(t, "host_fs.wat"),
		wazero.NewModuleConfig().WithName("").WithFSConfig(fsCfg))
	if err != nil {
		t.Fatal(err)
	}
	const (
		wasiOK     = 0
		wasiENOENT = 44
		wasiEPERM  = 63
		oCreat     = 1
	)
	for _, tc := range []struct {
		path   string
		oflags uint64
		want   uint64
	}{
		{"f.txt", 0, wasiOK},
		{"good/g.txt", 0, wasiOK},
		{"missing", 0, wasiENOENT},
		{"out/s.txt", 0, wasiEPERM},
		{"abs/s.txt", 0, wasiEPERM},
		{"../secret/s.txt", 0, wasiEPERM},
	} {
		mod.Memory().Write(64, []byte(tc.path))
		res, err := mod.ExportedFunction("open").Call(ctx, 64, uint64(len(tc.path)), tc.oflags)
		if err != nil {
			t.Fatalf("open %q trapped: %v", tc.path, err)
		}
		if res[0] != tc.want {
			t.Errorf("path_open(%q) errno = %d, want %d", tc.path, res[0], tc.want)
		}
	}
	mod.Memory().Write(64, []byte("new.txt"))
	if res, _ := mod.ExportedFunction("open").Call(ctx, 64, 7, oCreat); res[0] == wasiOK {
		t.Error("created a file on a read-only mount")
	}
}
