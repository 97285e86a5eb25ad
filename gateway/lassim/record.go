package lassim

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Connection is the soap.Connection a gateway would configure for this
// school: its profile's SOAPAction form and vendor headers included.
func (c Credentials) Connection() soap.Connection {
	conn := soap.Connection{Endpoint: c.Endpoint, Autorisatiesleutel: c.Autorisatiesleutel,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Brincode: c.Brin, Dependancecode: c.Dependancecode,
		Xsdversie: c.Xsdversie, Header: http.Header{}}
	if p, err := LookupProfile(c.Profile); err == nil {
		conn.QuoteSOAPAction = p.QuoteSOAPAction
		// A value missing from edited credentials is left out: the
		// simulator then answers 401, as the vendor would.
		_ = p.ApplyHeaders(conn.Header, c.headerValues(p))
	}
	return conn
}

// RecordAnswer generates a one-school world from opts (Schools and Endpoint
// are set here), serves it on loopback and fetches its whole-school
// HaalLeerlinggegevens answer with the real client: the bytes a LAS of that
// size sends, for benchmarks and fixtures.
func RecordAnswer(ctx context.Context, opts Options) ([]byte, error) {
	if opts.Profile.Name == "" {
		opts.Profile = Profiles["standard"]
	}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	opts.Schools, opts.Endpoint = 1, srv.URL+opts.Profile.Path
	w := NewWorld(opts)
	h = NewSim(w, opts.Profile, opts.Seed).Handler(opts.Endpoint)
	var buf bytes.Buffer
	cl := soap.NewClient(srv.Client(), w.Credentials()[0].Connection())
	if _, err := cl.Fetch(ctx, uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: opts.Schooljaar}, nil, &buf, nil); err != nil {
		return nil, fmt.Errorf("record %d-pupil answer: %w", opts.Pupils, err)
	}
	return buf.Bytes(), nil
}
