package service

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/troupehq/troupe/problem"
)

// WithAssets serves the files of fsys — typically an embed.FS — under
// prefix, outside the versioned API: a page and its scripts, such as
// realtime.ClientFS. They pass through the whole request path (request ID,
// access log, security headers, compression, rate limit) but are public:
// no token is asked for a page that may be the one that obtains it. A path
// that names a directory serves its index.html; prefix itself serves the
// root's. Each response carries a strong ETag and Cache-Control: no-cache,
// so browsers revalidate with If-None-Match and get 304 until a deploy
// changes the file. Files are read once, at New.
//
// A page's scripts need a Content-Security-Policy that allows them:
// security_headers.content_security_policy defaults to "default-src
// 'none'", which blocks every script.
func WithAssets(prefix string, fsys fs.FS) Option {
	return func(o *options) { o.assets = append(o.assets, assetMount{prefix: prefix, fsys: fsys}) }
}

// assetMount is one WithAssets.
type assetMount struct {
	prefix string
	fsys   fs.FS
}

// asset is one file, loaded and described once.
type asset struct {
	data        []byte
	etag        string
	contentType string
}

// assets serves one mount's files.
type assets struct {
	prefix string
	files  map[string]*asset // by path relative to the mount, "a/b.js"
}

// loadAssets reads every file of m, or reports a prefix that is not an
// absolute path without a trailing slash or parameters, or an unreadable
// file system.
func loadAssets(m assetMount) (*assets, error) {
	p := m.prefix
	if !strings.HasPrefix(p, "/") || (len(p) > 1 && strings.HasSuffix(p, "/")) || strings.ContainsAny(p, ":*?#") {
		return nil, fmt.Errorf("WithAssets: prefix %q must be an absolute path without a trailing slash, ':' or '*'", p)
	}
	if m.fsys == nil {
		return nil, fmt.Errorf("WithAssets(%q): nil file system", p)
	}
	a := &assets{prefix: strings.TrimSuffix(p, "/"), files: map[string]*asset{}}
	err := fs.WalkDir(m.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(m.fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		a.files[name] = &asset{data: data, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`, contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("WithAssets(%q): %w", p, err)
	}
	return a, nil
}

// routes are the Echo route templates of the mount: the prefix and what
// lies under it.
func (a *assets) routes() []string {
	if a.prefix == "" {
		return []string{"/", "/*"}
	}
	return []string{a.prefix, a.prefix + "/*"}
}

// assetRoutes lists the route templates of every mount, for the
// authentication rules: assets are public.
func assetRoutes(mounts []assetMount) []string {
	var out []string
	for _, m := range mounts {
		a := &assets{prefix: strings.TrimSuffix(m.prefix, "/")}
		out = append(out, a.routes()...)
	}
	return out
}

// ServeHTTP serves the file r names, answering conditional and range
// requests through http.ServeContent.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, a.prefix), "/")
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	f, ok := a.files[name]
	if !ok {
		problem.NewError(http.StatusNotFound, "No such file.").Render(w, r)
		return
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", f.contentType)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

// checkAssets reports the WithAssets mounts that cannot be served.
func checkAssets(mounts []assetMount) error {
	var errs []error
	seen := map[string]bool{}
	for _, m := range mounts {
		if _, err := loadAssets(m); err != nil {
			errs = append(errs, err)
		}
		if seen[m.prefix] {
			errs = append(errs, fmt.Errorf("WithAssets(%q): mounted twice", m.prefix))
		}
		seen[m.prefix] = true
	}
	return errors.Join(errs...)
}
