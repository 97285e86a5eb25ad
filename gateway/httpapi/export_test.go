package httpapi

// DuplicateKey exposes duplicateKey to the package's external tests.
var DuplicateKey = duplicateKey
