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
		"static/secretariat/index.html",
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

var (
	// Keys of the text table in i18n.js: 'key': [
	textKey = regexp.MustCompile(`(?m)^\s*'([a-z0-9_.]+)': \[`)
	// Static text keys in pages: data-i18n="key", data-i18n-title="key", ...
	attrKey = regexp.MustCompile(`data-i18n(?:-title|-placeholder|-label)?="([^"]+)"`)
	// Literal keys in scripts: t('key') or t('key', ...).
	callKey = regexp.MustCompile(`\bt\('([a-z0-9_.]+)'[,)]`)
)

// TestTextsComplete checks that every text key a page or script names
// literally has an entry in i18n.js, and that each entry has a Vietnamese and
// an English text.
func TestTextsComplete(t *testing.T) {
	table, err := fs.ReadFile(Files, "static/js/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range textKey.FindAllStringSubmatch(string(table), -1) {
		if known[m[1]] {
			t.Errorf("i18n.js: key %q twice", m[1])
		}
		known[m[1]] = true
	}
	if len(known) < 50 {
		t.Fatalf("i18n.js: found only %d keys; has its format changed?", len(known))
	}
	// Every entry is ['vi', 'en'] with two non-empty strings.
	entry := regexp.MustCompile(`(?s)'([a-z0-9_.]+)': \[\s*'((?:[^'\\]|\\.)*)',\s*'((?:[^'\\]|\\.)*)',?\s*\]`)
	complete := map[string]bool{}
	for _, m := range entry.FindAllStringSubmatch(string(table), -1) {
		if m[2] == "" || m[3] == "" {
			t.Errorf("i18n.js: %q lacks a text", m[1])
		}
		complete[m[1]] = true
	}
	for k := range known {
		if !complete[k] {
			t.Errorf("i18n.js: %q is not ['Vietnamese', 'English']", k)
		}
	}
	err = fs.WalkDir(Files, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files, name)
		if err != nil {
			return err
		}
		var re *regexp.Regexp
		switch path.Ext(name) {
		case ".html":
			re = attrKey
		case ".js":
			re = callKey
		default:
			return nil
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if !known[m[1]] {
				t.Errorf("%s: text key %q is not in i18n.js", name, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIDsUnique checks that no page has two elements of one id: the
// scripts find their elements by id, and the second would be unreachable.
func TestIDsUnique(t *testing.T) {
	id := regexp.MustCompile(`\sid="([^"]+)"`)
	pages := 0
	err := fs.WalkDir(Files, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".html") {
			return err
		}
		b, err := fs.ReadFile(Files, name)
		if err != nil {
			return err
		}
		pages++
		seen := map[string]bool{}
		for _, m := range id.FindAllSubmatch(b, -1) {
			if k := string(m[1]); seen[k] {
				t.Errorf("%s: id %q is used twice", name, k)
			} else {
				seen[k] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages < 5 {
		t.Fatalf("read %d pages; want the point, console, secretariat, admin and login pages", pages)
	}
}
