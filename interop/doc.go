// Package interop holds only tests: they prove that uwlr-gateway's SOAP stack
// (gateway/soap, the las-sim in gateway/lassim and the wire types in
// wsdl/uwlr) interoperates with an independent SOAP implementation that is
// driven by nothing but the official UWLR 2.2 WSDLs and XSDs.
//
// The independent stack is PHP's ext/soap (SoapClient and SoapServer); the
// PHP scripts are in interop/php, with a README on running them by hand.
// The tests need the php binary with the soap extension on PATH and fail,
// rather than skip, when it is missing.
//
// There is no non-test code in this package.
package interop
