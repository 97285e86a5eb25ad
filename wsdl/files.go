// Package wsdl embeds the official UWLR 2.2 WSDL and XSD files (see
// SOURCES.txt for their provenance) so that tools can serve and validate
// against them without a checkout. The Go wire types are in wsdl/uwlr.
package wsdl

import "embed"

// Files holds wsdl/*.wsdl and Schemas/**.xsd exactly as published.
//
//go:embed wsdl Schemas
var Files embed.FS
