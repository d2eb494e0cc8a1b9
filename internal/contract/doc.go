// Package contract checks the server against its machine-readable
// contract, the documents of package docs: REST responses against the
// OpenAPI 3.1 document (docs/openapi.json) and signaling messages against
// their JSON Schemas (docs/schema). Tests use it to fail on any answer
// the documents do not describe.
package contract
