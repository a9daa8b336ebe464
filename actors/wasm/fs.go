package wasm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	wazerosys "github.com/tetratelabs/wazero/sys"
)

// mountConfig mounts each host directory at the same path in the guest,
// confined (see confinedFS) and read-only unless the mount is writable. A
// path that is not an existing directory is an error naming it, so a
// component with a mistyped grant fails to load instead of running without
// its files.
func mountConfig(mounts []Mount) (wazero.FSConfig, error) {
	cfg := wazero.NewFSConfig()
	for _, m := range mounts {
		fsys, err := mountFS(m)
		if err != nil {
			return nil, err
		}
		cfg = cfg.(sysfs.FSConfig).WithSysFSMount(fsys, m.HostPath)
	}
	return cfg, nil
}

// mountFS is the file system of one mount.
func mountFS(m Mount) (experimentalsys.FS, error) {
	if !filepath.IsAbs(m.HostPath) || filepath.Clean(m.HostPath) != m.HostPath {
		return nil, fmt.Errorf("mount %q: the path must be absolute and clean", m.HostPath)
	}
	fi, err := os.Stat(m.HostPath)
	if err != nil {
		return nil, fmt.Errorf("mount %q: %w", m.HostPath, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("mount %q: not a directory", m.HostPath)
	}
	// The Root closes itself when the mount becomes unreachable (os.Root
	// has a finalizer), so a reloaded component does not leak it.
	root, err := os.OpenRoot(m.HostPath)
	if err != nil {
		return nil, fmt.Errorf("mount %q: %w", m.HostPath, err)
	}
	var fsys experimentalsys.FS = &confinedFS{inner: sysfs.DirFS(m.HostPath), root: root}
	if m.ReadOnly {
		fsys = readOnlyFS{&sysfs.ReadFS{FS: fsys}}
	}
	return fsys, nil
}

// readOnlyFS closes a gap in wazero's ReadFS, which refuses write access
// modes but passes O_RDONLY with O_CREAT or O_TRUNC through, so a guest
// could create or (on Linux) truncate files on a read-only mount. Every
// other method is ReadFS's, which refuses all changes.
type readOnlyFS struct{ experimentalsys.FS }

// OpenFile refuses any flag that creates or changes a file.
func (r readOnlyFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if flag&(experimentalsys.O_CREAT|experimentalsys.O_TRUNC|experimentalsys.O_APPEND) != 0 {
		return nil, experimentalsys.EROFS
	}
	return r.FS.OpenFile(p, flag, perm)
}

// confinedFS is a directory mount that a guest cannot leave. Before each
// operation it resolves the path with os.Root, which follows symbolic links
// only while they stay inside the directory, and refuses (EPERM) a path that
// would leave it by ".." or through a link pointing outside, absolute links
// included, and a dangling link, which creating a file through would follow
// anywhere. Creating links is always refused, so the only links are the ones
// the host put there.
//
// The operation itself then runs on the path (wazero's DirFS), so a host
// process that swaps a directory for an outside link between the check and
// the operation could win that race; the guest cannot, having no way to
// make links. Hard links made on the host are indistinguishable from files
// and are followed.
type confinedFS struct {
	inner experimentalsys.FS
	root  *os.Root
}

var _ experimentalsys.FS = (*confinedFS)(nil)

// rootPath turns a mount-relative path as wazero passes it into one os.Root
// accepts.
func rootPath(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// resolve checks that p stays inside the mount. With follow, the last
// element is resolved too, as by open or stat; without, it is the entry
// itself, as by lstat, unlink or rename. A missing p passes when its parent
// resolves inside, so it can be created.
func (c *confinedFS) resolve(p string, follow bool) experimentalsys.Errno {
	p = rootPath(p)
	var err error
	if follow {
		_, err = c.root.Stat(p)
	} else {
		_, err = c.root.Lstat(p)
	}
	if err == nil {
		return 0
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return refusal(err)
	}
	if follow {
		if _, err := c.root.Lstat(p); err == nil {
			return experimentalsys.EPERM // a dangling link
		}
	}
	if _, err := c.root.Stat(path.Dir(p)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return experimentalsys.ENOENT
		}
		return refusal(err)
	}
	return 0
}

// refusal maps an os.Root error: an OS error keeps its errno (ENOTDIR,
// ELOOP, EACCES...), and anything else, notably "path escapes from parent",
// is EPERM.
func refusal(err error) experimentalsys.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return experimentalsys.UnwrapOSError(errno)
	}
	return experimentalsys.EPERM
}

// OpenFile opens p after confining it; O_NOFOLLOW leaves the last element
// unresolved, as the open will.
func (c *confinedFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if errno := c.resolve(p, flag&experimentalsys.O_NOFOLLOW == 0); errno != 0 {
		return nil, errno
	}
	return c.inner.OpenFile(p, flag, perm)
}

// Lstat stats the entry p itself.
func (c *confinedFS) Lstat(p string) (wazerosys.Stat_t, experimentalsys.Errno) {
	if errno := c.resolve(p, false); errno != 0 {
		return wazerosys.Stat_t{}, errno
	}
	return c.inner.Lstat(p)
}

// Stat stats what p resolves to.
func (c *confinedFS) Stat(p string) (wazerosys.Stat_t, experimentalsys.Errno) {
	if errno := c.resolve(p, true); errno != 0 {
		return wazerosys.Stat_t{}, errno
	}
	return c.inner.Stat(p)
}

// Mkdir creates directory p.
func (c *confinedFS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	if errno := c.resolve(p, false); errno != 0 {
		return errno
	}
	return c.inner.Mkdir(p, perm)
}

// Chmod changes the mode of what p resolves to.
func (c *confinedFS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	if errno := c.resolve(p, true); errno != 0 {
		return errno
	}
	return c.inner.Chmod(p, perm)
}

// Rename moves the entry from to to, both inside the mount.
func (c *confinedFS) Rename(from, to string) experimentalsys.Errno {
	if errno := c.resolve(from, false); errno != 0 {
		return errno
	}
	if errno := c.resolve(to, false); errno != 0 {
		return errno
	}
	return c.inner.Rename(from, to)
}

// Rmdir removes the directory entry p.
func (c *confinedFS) Rmdir(p string) experimentalsys.Errno {
	if errno := c.resolve(p, false); errno != 0 {
		return errno
	}
	return c.inner.Rmdir(p)
}

// Unlink removes the entry p; a link is removed, not its target.
func (c *confinedFS) Unlink(p string) experimentalsys.Errno {
	if errno := c.resolve(p, false); errno != 0 {
		return errno
	}
	return c.inner.Unlink(p)
}

// Link is refused: a hard link to a file outside would carry it in.
func (c *confinedFS) Link(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

// Symlink is refused: a guest-made link could point anywhere.
func (c *confinedFS) Symlink(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

// Readlink reads link p, only when its target resolves inside the mount,
// so a host link pointing outside does not reveal the host's layout.
func (c *confinedFS) Readlink(p string) (string, experimentalsys.Errno) {
	if errno := c.resolve(p, true); errno != 0 {
		return "", errno
	}
	return c.inner.Readlink(p)
}

// Utimens sets the times of what p resolves to.
func (c *confinedFS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	if errno := c.resolve(p, true); errno != 0 {
		return errno
	}
	return c.inner.Utimens(p, atim, mtim)
}
