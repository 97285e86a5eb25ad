package lassim

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

func asSOAPError(err error, target **soap.Error) bool { return errors.As(err, target) }

// Handler serves the simulator: the SOAP endpoint at the profile's path
// (both services), the official WSDLs at <path>?wsdl and <path>?wsdl=leerresultaten
// with the address set to this endpoint, and the XSDs they import.
func (s *Sim) Handler(endpoint string) http.Handler {
	mux := http.NewServeMux()
	srv := &soap.Server{Backend: s, Gzip: true}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if i := strings.Index(r.URL.Path, "/Schemas/"); i >= 0 && r.Method == http.MethodGet {
			serveSchema(w, r, r.URL.Path[i+len("/Schemas/"):])
			return
		}
		if r.URL.Path != s.Profile.Path {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet && r.URL.Query().Has("wsdl") {
			serveWSDL(w, r, r.URL.Query().Get("wsdl"), endpoint)
			return
		}
		if !s.headersOK(r.Header) {
			// What an API gateway in front of the LAS answers: not SOAP.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"statusCode":401,"message":"Access denied due to missing or invalid subscription key."}`))
			return
		}
		srv.ServeHTTP(w, r)
	})
	return mux
}

// HTTPServer is the http.Server las-sim runs: Handler(endpoint) with the
// limits of soap.NewHTTPServer (read, write and idle timeouts, header size).
func (s *Sim) HTTPServer(endpoint string) *http.Server {
	return soap.NewHTTPServer(s.Handler(endpoint))
}

// Authorize implements soap.Authorizer: a key issued to no school is
// refused from the autorisatie header, before the request body is read or
// inflated. It answers what Handle would: Autorisatie ongeldig for an
// incomplete header or an unknown key, Ongeldige klant identificatie when
// the klant is wrong as well (Handle checks the klant before the key), after
// the Latency. A known key passes, and so does any key when replaying or
// with a FaultRate (Handle injects its faults before it checks a key):
// Handle then runs every check in the Topicus order. So a request whose key
// and body formats are both wrong gets the key's fault, not the format's. A
// refused call counts in Calls.
func (s *Sim) Authorize(ctx context.Context, op uwlr.Operation, a *uwlr.Autorisatie) error {
	var f *soap.Fault
	switch {
	case s.Replay != nil || s.FaultRate > 0:
		return nil
	case a == nil || strings.TrimSpace(a.Autorisatiesleutel) == "" || strings.TrimSpace(a.Klantcode) == "" || strings.TrimSpace(a.Klantnaam) == "":
		f = soap.NewFault(soap.CodeAutorisatieOngeldig, "autorisatie header missing or incomplete")
	default:
		if _, ok := s.World.School(a.Autorisatiesleutel); ok {
			return nil
		}
		f = soap.NewFault(soap.CodeAutorisatieOngeldig, "unknown key")
		if a.Klantcode != Klantcode || a.Klantnaam != Klantnaam {
			f = soap.NewFault(soap.CodeOngeldigeKlantIdentificatie, "")
		}
	}
	s.mu.Lock()
	s.counts[op.Name]++
	s.mu.Unlock()
	if s.Latency > 0 {
		t := time.NewTimer(s.Latency)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return f
}

// headersOK reports whether every header the profile requires carries a
// value issued to one of the schools (a subscription covers the whole
// world, as an API-management key covers every school of a supplier).
func (s *Sim) headersOK(h http.Header) bool {
	for _, vh := range s.Profile.Headers {
		if !s.issued(vh.Field, h.Get(vh.Name)) {
			return false
		}
	}
	return true
}

func (s *Sim) issued(field, v string) bool {
	if v == "" {
		return false
	}
	for _, sch := range s.World.Schools {
		if p := sch.Creds.headerValue(field); p != nil && *p == v {
			return true
		}
	}
	return false
}

func serveSchema(w http.ResponseWriter, r *http.Request, name string) {
	name = path.Clean("/" + name)[1:]
	b, err := fs.ReadFile(wsdl.Files, "Schemas/"+name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b)
}

func serveWSDL(w http.ResponseWriter, r *http.Request, which, endpoint string) {
	file := "wsdl/UWLR_Leerlinggegevens_v2p2.wsdl"
	if which == "leerresultaten" {
		file = "wsdl/UWLR_Leerresultaten_v2p2.wsdl"
	}
	b, err := fs.ReadFile(wsdl.Files, file)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	doc := strings.ReplaceAll(string(b), "http://localhost:8080/NOTDEFINEDYET", endpoint)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(doc))
}
