// Package web holds the browser pages, embedded in the server binary.
package web

import "embed"

// Files holds the static pages and scripts, served at the site root.
//
//go:embed all:static
var Files embed.FS
