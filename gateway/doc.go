// Package gateway is the domain of uwlr-gateway: schools, pupils, groups,
// teachers, results and consent, the error kinds every adapter maps onto,
// and the contracts shared by more than one package.
//
// It imports only the standard library and knows nothing of SOAP, XML,
// HTTP, Redis or configuration; adapters import it, never the reverse.
package gateway
