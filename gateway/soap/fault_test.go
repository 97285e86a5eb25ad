package soap_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// wantClass is the classification every known UWLR fault code must get. It is
// written out here (not derived from the package) so that a change to the
// table in fault.go has to be made on purpose in both places.
var wantClass = map[string]soap.Class{
	"Client.AutorisatieOngeldig":         soap.ClassCredential,
	"Client.OngeldigeKlantIdentificatie": soap.ClassCredential,
	"Client.OngeldigBericht":             soap.ClassRequest,
	"Client.XsdVersieOngeldig":           soap.ClassVersion,
	"Client.VocabulaireTermOngeldig":     soap.ClassRequest,
	"Client.LeerlingOngeldig":            soap.ClassRequest,
	"Client.ToetsNormeringOngeldig":      soap.ClassRequest,
	"Client.ScoreOngeldig":               soap.ClassRequest,
	"Client.EldResultaatOngeldig":        soap.ClassRequest,
	"Server.InterneFout":                 soap.ClassTemporary,
	"Server.TijdelijkNietBeschikbaar":    soap.ClassTemporary,
}

// wantKind is the domain error kind each class must unwrap to.
var wantKind = map[soap.Class]error{
	soap.ClassCredential: gateway.ErrForbidden,
	soap.ClassRequest:    gateway.ErrInvalid,
	soap.ClassVersion:    gateway.ErrInvalid,
	soap.ClassTemporary:  gateway.ErrTransient,
}

var allKinds = []error{gateway.ErrForbidden, gateway.ErrInvalid, gateway.ErrTransient}

func TestFaultCodesAreAllClassified(t *testing.T) {
	got := soap.FaultCodes()
	slices.Sort(got)
	var want []string
	for c := range wantClass {
		want = append(want, c)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("FaultCodes() = %v\nwant %v\n(add new codes to wantClass in this test)", got, want)
	}
	for _, c := range got {
		if s := soap.DefaultFaultString(c); s == "" || s == c {
			t.Errorf("DefaultFaultString(%q) = %q, want a Dutch description", c, s)
		}
	}
	if s := soap.DefaultFaultString("Client.Onbekend"); s != "Client.Onbekend" {
		t.Errorf("DefaultFaultString of an unknown code = %q, want the code itself", s)
	}
}

// faultEnvelope is a SOAP 1.1 fault as a LAS sends it; prefix is the envelope
// prefix the LAS uses ("soap", "SOAP-ENV", ...).
func faultEnvelope(prefix, code, text string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+
		`<%[1]s:Envelope xmlns:%[1]s="http://schemas.xmlsoap.org/soap/envelope/"><%[1]s:Body>`+
		`<%[1]s:Fault><faultcode>%[2]s</faultcode><faultstring>%[3]s</faultstring></%[1]s:Fault>`+
		`</%[1]s:Body></%[1]s:Envelope>`, prefix, code, text)
}

func TestFaultClassification(t *testing.T) {
	type tc struct {
		sent      string // faultcode as on the wire
		wantCode  string // Error.Code: without prefix
		wantClass soap.Class
	}
	var tests []tc
	for _, c := range soap.FaultCodes() {
		tests = append(tests, tc{"soap:" + c, c, wantClass[c]})
	}
	tests = append(tests,
		tc{"soap:Client.AutorisatieOngeldig", "Client.AutorisatieOngeldig", soap.ClassCredential},
		tc{"SOAP-ENV:Server.InterneFout", "Server.InterneFout", soap.ClassTemporary},
		tc{"Client.XsdVersieOngeldig", "Client.XsdVersieOngeldig", soap.ClassVersion},
		tc{"  s:Client.OngeldigeKlantIdentificatie ", "Client.OngeldigeKlantIdentificatie", soap.ClassCredential},
		tc{"soap:Server.Iets", "Server.Iets", soap.ClassTemporary},
		tc{"soap:Server", "Server", soap.ClassTemporary},
		tc{"soap:Client.Iets", "Client.Iets", soap.ClassRequest},
		tc{"soap:Client", "Client", soap.ClassRequest},
		tc{"VersionMismatch", "VersionMismatch", soap.ClassVersion},
		tc{"SOAP-ENV:VersionMismatch", "VersionMismatch", soap.ClassVersion},
		tc{"soap:MustUnderstand", "MustUnderstand", soap.ClassRequest},
	)
	for _, tt := range tests {
		t.Run(tt.sent, func(t *testing.T) {
			class, hint := soap.ClassifyFaultCode(tt.sent)
			if class != tt.wantClass {
				t.Errorf("ClassifyFaultCode(%q) class = %q, want %q", tt.sent, class, tt.wantClass)
			}
			if strings.TrimSpace(hint) == "" {
				t.Errorf("ClassifyFaultCode(%q) gave no hint", tt.sent)
			}
			if got := soap.FaultCodeLocal(tt.sent); got != tt.wantCode {
				t.Errorf("FaultCodeLocal(%q) = %q, want %q", tt.sent, got, tt.wantCode)
			}

			// The same code, arriving in a real fault envelope, becomes a *soap.Error.
			_, err := soap.ReadLeerlinggegevens(strings.NewReader(faultEnvelope("SOAP-ENV", tt.sent, "De LAS zegt nee")), soap.Handler{})
			var se *soap.Error
			if !errors.As(err, &se) {
				t.Fatalf("ReadLeerlinggegevens(fault) error = %v (%T), want *soap.Error", err, err)
			}
			if se.Code != tt.wantCode || se.Class != tt.wantClass || se.Hint != hint || se.Message != "De LAS zegt nee" {
				t.Errorf("error = %+v, want Code %q Class %q Hint %q Message %q", se, tt.wantCode, tt.wantClass, hint, "De LAS zegt nee")
			}
			if se.Retryable() != (tt.wantClass == soap.ClassTemporary) {
				t.Errorf("Retryable() = %v for class %s", se.Retryable(), tt.wantClass)
			}
			for _, kind := range allKinds {
				if got, want := errors.Is(err, kind), kind == wantKind[tt.wantClass]; got != want {
					t.Errorf("errors.Is(err, %q) = %v, want %v", kind, got, want)
				}
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantCode) || !strings.Contains(msg, "["+string(tt.wantClass)+"]") {
				t.Errorf("Error() = %q, want it to contain code %q and class [%s]", msg, tt.wantCode, tt.wantClass)
			}
		})
	}
}

func TestClassKindAndRetryable(t *testing.T) {
	for class, kind := range wantKind {
		if soap.KindOf(class) != kind {
			t.Errorf("%s.Kind() = %v, want %v", class, soap.KindOf(class), kind)
		}
		if class.Retryable() != (class == soap.ClassTemporary) {
			t.Errorf("%s.Retryable() = %v", class, class.Retryable())
		}
	}
}

func TestErrorStringAndUnwrap(t *testing.T) {
	cause := errors.New("dial tcp: connection refused")
	tests := []struct {
		name  string
		err   *soap.Error
		want  []string
		avoid []string
	}{
		{
			name: "fault",
			err:  &soap.Error{Op: "HaalLeerlinggegevens", Code: "Client.AutorisatieOngeldig", HTTPStatus: 500, Message: "Autorisatie ongeldig", Class: soap.ClassCredential},
			want: []string{"HaalLeerlinggegevens", "SOAP fault Client.AutorisatieOngeldig", "(HTTP 500)", "Autorisatie ongeldig", "[credential]"},
		},
		{
			name:  "transport",
			err:   &soap.Error{Op: "HaalStructuur", Message: "no route", Class: soap.ClassTemporary, Err: cause},
			want:  []string{"HaalStructuur", "no route", "[temporary]"},
			avoid: []string{"SOAP fault", "HTTP"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.err.Error()
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("Error() = %q, want it to contain %q", s, w)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(s, a) {
					t.Errorf("Error() = %q, must not contain %q", s, a)
				}
			}
			if tt.err.Err != nil && !errors.Is(tt.err, tt.err.Err) {
				t.Errorf("errors.Is(err, underlying) = false")
			}
			if !errors.Is(tt.err, soap.KindOf(tt.err.Class)) {
				t.Errorf("errors.Is(err, %v) = false", soap.KindOf(tt.err.Class))
			}
		})
	}
}

func TestNewFault(t *testing.T) {
	tests := []struct {
		code, detail, want string
	}{
		{soap.CodeAutorisatieOngeldig, "", "Autorisatie ongeldig"},
		{soap.CodeOngeldigBericht, "schooljaar ontbreekt", "Ongeldig bericht: schooljaar ontbreekt"},
		{"Client.Eigen", "x", "Client.Eigen: x"},
	}
	for _, tt := range tests {
		f := soap.NewFault(tt.code, tt.detail)
		if f.Code != tt.code || f.String != tt.want {
			t.Errorf("NewFault(%q, %q) = %+v, want String %q", tt.code, tt.detail, f, tt.want)
		}
		if !strings.Contains(f.Error(), tt.code) {
			t.Errorf("Fault.Error() = %q lacks the code", f.Error())
		}
	}
}
