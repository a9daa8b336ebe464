package wasm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// fileStamp is the cheap change check of the reload poller: modification
// time and size of the manifest and the module. Only when it changes are
// the files hashed, so polling costs two stats per component.
//
// A file's modification time comes from a coarse clock (a scheduler tick
// on Linux), so a file rewritten within one tick of the last stamp, with
// the same size, keeps its time: the stamp is "racy", as git calls it.
// While a stamped file's time is within racyWindow of the stamp, the
// poller hashes it at every poll instead of trusting the time.
type fileStamp struct {
	manifest, module       fileID
	manifestSum, moduleSum [sha256.Size]byte
	at                     time.Time // when the stamp was taken
}

// racyWindow bounds the clock granularity of file times and the skew
// between the file system's clock and ours.
const racyWindow = time.Second

// racy reports whether id may hide a later write at the same time.
func (s *fileStamp) racy(id fileID) bool { return !id.mtime.Before(s.at.Add(-racyWindow)) }

type fileID struct {
	mtime time.Time
	size  int64
}

func statFile(path string) fileID {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}
	}
	return fileID{mtime: fi.ModTime(), size: fi.Size()}
}

func sumFile(path string) [sha256.Size]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return [sha256.Size]byte{}
	}
	return sha256.Sum256(b)
}

// statFiles stamps m's manifest file and module.
func statFiles(m *Manifest) fileStamp {
	mp := filepath.Join(m.Dir, ManifestFile)
	return fileStamp{
		manifest: statFile(mp), module: statFile(m.WASMPath()),
		manifestSum: sumFile(mp), moduleSum: sumFile(m.WASMPath()),
		at: time.Now(),
	}
}

// pollReloads is the reload poller: one goroutine per Runtime, ticking at
// ReloadInterval until Close.
func (r *Runtime) pollReloads() {
	t := time.NewTicker(r.opts.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		comps := append([]*Component(nil), r.comps...)
		r.mu.Unlock()
		for _, c := range comps {
			if c.changed() {
				_ = r.Reload(context.Background(), c) // Reload logs and counts
			}
		}
	}
}

// changed reports whether c's files differ in content from the version
// serving; a touch that leaves the content as it was only updates the
// stamp.
func (c *Component) changed() bool {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	m := c.cur.Load().m
	mp := filepath.Join(m.Dir, ManifestFile)
	man, mod := statFile(mp), statFile(m.WASMPath())
	if man == c.stamp.manifest && mod == c.stamp.module && !c.stamp.racy(man) && !c.stamp.racy(mod) {
		return false
	}
	c.stamp.manifest, c.stamp.module, c.stamp.at = man, mod, time.Now()
	manSum, modSum := sumFile(mp), sumFile(m.WASMPath())
	if manSum == c.stamp.manifestSum && modSum == c.stamp.moduleSum {
		return false
	}
	c.stamp.manifestSum, c.stamp.moduleSum = manSum, modSum
	return true
}

// Reload loads c again from its files: Dir/Component.toml when it exists
// (else the manifest it was loaded with) and the module it names. On
// success the new version serves: each actor moves to a new instance
// between messages (the message in flight finishes on the old one), and
// the old module is closed with its last instance. On failure, including a
// manifest that renames the component, the old version keeps serving and
// the error is returned, logged and counted.
func (r *Runtime) Reload(ctx context.Context, c *Component) error {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return errors.New("wasm: runtime closed")
	}
	old := c.cur.Load()
	v, err := r.loadVersion(ctx, c, old.m)
	if err != nil {
		c.reloadErr.Store(err.Error())
		r.stats.reloaded(ctx, c.name, false)
		r.log.Error("component reload failed; the old version keeps serving", "component", c.name, "err", err)
		return err
	}
	c.cur.Store(v)
	c.stamp = statFiles(v.m)
	c.reloadErr.Store("")
	old.retire()
	r.stats.reloaded(ctx, c.name, true)
	r.log.Info("component reloaded", "component", c.name, "version", v.m.Component.Version,
		"sha256", fmt.Sprintf("%x", v.digest))
	return nil
}

// loadVersion reads and compiles c's files as a new version.
func (r *Runtime) loadVersion(ctx context.Context, c *Component, cur *Manifest) (*version, error) {
	m := cur
	if path := filepath.Join(cur.Dir, ManifestFile); fileExists(path) {
		var err error
		if m, err = LoadManifest(path); err != nil {
			return nil, err
		}
	}
	if m.Component.Name != c.name {
		return nil, &KeyError{Key: "component.name",
			Err: fmt.Errorf("renaming %q to %q needs a restart, not a reload", c.name, m.Component.Name)}
	}
	wasm, err := r.readModule(ctx, m)
	if err != nil {
		return nil, err
	}
	return r.newVersion(ctx, m, wasm)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
