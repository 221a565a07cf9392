// Package static holds the CSS and JavaScript the pages load, embedded in the
// binary, each served at a content-hashed URL so browsers may cache it forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
)

//go:embed css js favicon.svg
var files embed.FS

// Assets is the embedded file set with a content hash per file.
type Assets struct {
	fs     fs.FS
	hashes map[string]string
}

// New hashes every embedded file once.
func New() (*Assets, error) {
	a := &Assets{fs: files, hashes: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: hash assets: %w", err)
	}
	return a, nil
}

// FS is the file system to serve from.
func (a *Assets) FS() fs.FS { return a.fs }

// Hash returns the content hash of a file ("css/app.css"), or "".
func (a *Assets) Hash(name string) string { return a.hashes[path.Clean(name)] }

// URL is the address a page should load a file from: its path under /static
// with the content hash as version, so a new build is never served stale.
func (a *Assets) URL(name string) string {
	name = path.Clean(name)
	if h := a.hashes[name]; h != "" {
		return "/static/" + name + "?v=" + h
	}
	return "/static/" + name
}
