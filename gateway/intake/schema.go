package intake

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of the results file. [Read]
// enforces everything in it and more; the schema lets publishers check their
// files with their own tools.
//
//go:embed results.schema.json
var Schema []byte
