package web

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestPagesEmbedded checks that the pages the server links to are embedded.
func TestPagesEmbedded(t *testing.T) {
	for _, name := range []string{
		"static/index.html",
		"static/point/index.html",
		"static/console/index.html",
		"static/css/style.css",
	} {
		t.Run(name, func(t *testing.T) {
			b, err := fs.ReadFile(Files, name)
			if err != nil {
				t.Fatalf("not embedded: %v", err)
			}
			if len(b) == 0 {
				t.Fatal("empty file")
			}
		})
	}
}

var (
	// Absolute references from pages: src="/js/x.js", href="/css/y.css".
	pageRef = regexp.MustCompile(`(?:src|href)="(/[^"?#]*)"`)
	// Relative imports between modules: from './x.js'.
	moduleRef = regexp.MustCompile(`from '(\./[^']+)'`)
	// References that must not leave the server.
	externalRef = regexp.MustCompile(`(?i)(?:src|href|url\()\s*=?\s*["']?(?:https?:)?//`)
)

// TestReferencesResolve checks that every script, stylesheet and module import
// names an embedded file, and that nothing is loaded from another site.
func TestReferencesResolve(t *testing.T) {
	static, err := fs.Sub(Files, "static")
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		text := string(b)
		if m := externalRef.FindString(text); m != "" {
			t.Errorf("%s: external reference %q", name, m)
		}
		var refs []string
		switch path.Ext(name) {
		case ".html":
			for _, m := range pageRef.FindAllStringSubmatch(text, -1) {
				ref := strings.TrimPrefix(m[1], "/")
				if ref == "" || strings.HasSuffix(ref, "/") {
					continue // a page address, served as its index.html
				}
				refs = append(refs, ref)
			}
		case ".js":
			for _, m := range moduleRef.FindAllStringSubmatch(text, -1) {
				refs = append(refs, path.Join(path.Dir(name), m[1]))
			}
		}
		for _, ref := range refs {
			if _, err := fs.Stat(static, ref); err != nil {
				t.Errorf("%s refers to %s, which is not embedded", name, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
