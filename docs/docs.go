// Package docs holds the machine-readable contract of hoinghi beside the
// documents that describe it for people: the OpenAPI document of the REST
// API and the JSON Schemas of the signaling messages. The server serves
// them and the tests check the server against them.
package docs

import "embed"

// OpenAPI is the OpenAPI 3.1 document of the REST API, served at
// /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// Schemas holds the JSON Schemas (draft 2020-12) of the signaling
// messages, under schema/.
//
//go:embed schema/*.json
var Schemas embed.FS
