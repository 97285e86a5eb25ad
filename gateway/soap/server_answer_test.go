package soap_test

// The server's answers: streamed, gzipped, faults as the client classes them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

func TestServerStreamsAnswers(t *testing.T) {
	const pupils = 5000
	stream := bodyFunc(func(w io.Writer) error {
		if _, err := io.WriteString(w, `<leerlinggegevens_antwoord xmlns="`+uwlr.NSLeerlinggegevens+`"><leerlinggegevens>`+
			`<school><schooljaar>2025-2026</schooljaar><brincode>12AB</brincode></school><groepen><groep key="G1"><naam>1a</naam><jaargroep>1</jaargroep></groep></groepen><leerlingen>`); err != nil {
			return err
		}
		for i := range pupils {
			if _, err := fmt.Fprintf(w, `<leerling key="P%d"><achternaam>A%d</achternaam><groep key="G1"/></leerling>`, i, i); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, `</leerlingen></leerlinggegevens></leerlinggegevens_antwoord>`)
		return err
	})
	sample := readSample(t)
	tests := []struct {
		name       string
		answer     any
		wantPupils int
	}{
		{"BodyWriter", stream, pupils},
		{"EnvelopeWriter replay", rawEnvelope(sample), 22},
		{"struct", &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
			School:     uwlr.School{Schooljaar: "2025-2026"},
			Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{{Key: "P0", Achternaam: "A"}, {Key: "P1", Achternaam: "B"}}},
		}}, 2},
	}
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", tt.name, gz), func(t *testing.T) {
				las := newLAS(t, &soap.Server{Gzip: gz, Backend: backendFunc(func(context.Context, *soap.Call) (any, error) { return tt.answer, nil })})
				next := 0
				var order error
				sum, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{
					Leerling: func(l *uwlr.Leerling) error {
						if tt.wantPupils != 22 && l.Key != fmt.Sprintf("P%d", next) && order == nil {
							order = fmt.Errorf("pupil %d has key %q", next, l.Key)
						}
						next++
						return nil
					},
				})
				if err != nil {
					t.Fatalf("HaalLeerlinggegevens: %v", err)
				}
				if sum.Leerlingen != tt.wantPupils || next != tt.wantPupils || len(sum.Warnings) != 0 {
					t.Errorf("summary = %+v, handler saw %d; want %d pupils, no warnings", sum, next, tt.wantPupils)
				}
				if order != nil {
					t.Error(order)
				}
			})
		}
	}
}

func TestServerBrokenStreamReportsError(t *testing.T) {
	broken := errors.New("cursor closed")
	errs := make(chan error, 1)
	las := newLAS(t, &soap.Server{
		Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
			return bodyFunc(func(w io.Writer) error {
				io.WriteString(w, `<leerlinggegevens_antwoord xmlns="`+uwlr.NSLeerlinggegevens+`"><leerlinggegevens><leerlingen>`)
				return broken
			}), nil
		}),
		OnError: func(op string, err error) { errs <- fmt.Errorf("%s: %w", op, err) },
	})
	_, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
	// The server aborts the connection, so the client sees a broken
	// transfer it may retry, not a malformed document.
	if se := asSOAPError(t, err); se.Class != soap.ClassTemporary {
		t.Errorf("broken stream classified %s (%v), want temporary", se.Class, err)
	}
	if got := <-errs; !errors.Is(got, broken) || !strings.HasPrefix(got.Error(), "HaalLeerlinggegevens: ") {
		t.Errorf("OnError got %v", got)
	}
}

func TestServerGzip(t *testing.T) {
	tests := []struct {
		name           string
		serverGzip     bool
		acceptEncoding string
		fault          bool
		want           string // Content-Encoding of the answer
	}{
		{"gzip on, client accepts", true, "gzip", false, "gzip"},
		{"gzip on, client accepts among others", true, "deflate, gzip", false, "gzip"},
		{"gzip on, fault", true, "gzip", true, "gzip"},
		{"gzip on, client does not accept", true, "", false, ""},
		{"gzip off, client accepts", false, "gzip", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			las := newLAS(t, &soap.Server{Gzip: tt.serverGzip, Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
				if tt.fault {
					return nil, soap.NewFault(soap.CodeAutorisatieOngeldig, "")
				}
				return rawEnvelope(readSample(t)), nil
			})})
			hdr := http.Header{}
			if tt.acceptEncoding != "" {
				hdr.Set("Accept-Encoding", tt.acceptEncoding)
			}
			r := post(t, las.URL, "", mustEnvelope(t, testAuth, validVerzoek()), hdr)
			if got := r.header.Get("Content-Encoding"); got != tt.want {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.want)
			}
			if tt.fault {
				if f := wireFault(t, r.body); f.Code != "soap:"+soap.CodeAutorisatieOngeldig || r.status != 500 {
					t.Errorf("fault = %+v, status %d", f, r.status)
				}
			} else if !bytes.Equal(r.body, readSample(t)) {
				t.Errorf("decoded answer differs from what the backend wrote (%d bytes)", len(r.body))
			}
		})
	}

	// Through our client: it asks for gzip, gets it, and decodes it; with
	// DisableGzip it does not ask and gets plain XML.
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("client DisableGzip=%v", disable), func(t *testing.T) {
			encodings := make(chan string, 1)
			srv := &soap.Server{Gzip: true, Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
				return rawEnvelope(readSample(t)), nil
			})}
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				srv.ServeHTTP(w, r)
				encodings <- w.Header().Get("Content-Encoding")
			}))
			defer hs.Close()
			conn := testConn(hs.URL)
			conn.DisableGzip = disable
			hc, err := soap.NewHTTPClient(soap.TransportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := soap.NewClient(hc, conn).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			if err != nil || sum.Leerlingen != 22 {
				t.Fatalf("HaalLeerlinggegevens = %+v, %v", sum, err)
			}
			want := "gzip"
			if disable {
				want = ""
			}
			if got := <-encodings; got != want {
				t.Errorf("server answered with Content-Encoding %q, want %q", got, want)
			}
		})
	}
}

// The classes a server-side fault code ends up in at the client are the
// gateway's error kinds.
func TestServerFaultKindsAtClient(t *testing.T) {
	for _, code := range soap.FaultCodes() {
		t.Run(code, func(t *testing.T) {
			las := newLAS(t, &soap.Server{Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
				return nil, soap.NewFault(code, "")
			})})
			_, err := soap.NewClient(nil, testConn(las.URL)).HaalStructuur(context.Background(), testRequest, soap.Handler{})
			if !errors.Is(err, wantKind[wantClass[code]]) {
				t.Errorf("errors.Is(%v, %v) = false", err, wantKind[wantClass[code]])
			}
			if se := asSOAPError(t, err); se.Code != code || se.Message != soap.DefaultFaultString(code) {
				t.Errorf("error = %+v", se)
			}
		})
	}
}
