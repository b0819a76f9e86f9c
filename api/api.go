// Package api holds the OpenAPI 3.1 document of Skript's HTTP API, the
// contract `skript serve` answers to and clients (the web UI included)
// are written against. The server's tests check that every route it
// registers is in the document and every answer it gives matches it.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document, as served at /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte
