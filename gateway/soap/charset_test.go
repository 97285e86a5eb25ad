package soap_test

import (
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
	"strings"
)

func TestReadDeclaredSingleByteEncodings(t *testing.T) {
	// "Ölçer" and "Dijk–Smit" in each encoding: Ö=0xD6, ç=0xE7, en dash=0x96 (cp1252 only).
	tests := []struct {
		encoding string
		body     string
		want     string
	}{
		{"UTF-8", "Ölçer", "Ölçer"},
		{"ISO-8859-1", "\xd6l\xe7er", "Ölçer"},
		{"windows-1252", "Dijk\x96Smit", "Dijk–Smit"},
	}
	for _, tt := range tests {
		t.Run(tt.encoding, func(t *testing.T) {
			doc := `<?xml version="1.0" encoding="` + tt.encoding + `"?>` +
				`<leerlinggegevens_antwoord xmlns="` + uwlr.NSLeerlinggegevens + `"><leerlinggegevens>` +
				`<school><schooljaar>2025-2026</schooljaar><brincode>12AB</brincode></school>` +
				`<leerlingen><leerling key="1"><achternaam>` + tt.body + `</achternaam></leerling></leerlingen>` +
				`</leerlinggegevens></leerlinggegevens_antwoord>`
			var got string
			_, err := soap.ReadLeerlinggegevens(strings.NewReader(doc), soap.Handler{Leerling: func(l *uwlr.Leerling) error {
				got = l.Achternaam
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("achternaam = %q, want %q", got, tt.want)
			}
		})
	}
	_, err := soap.ReadLeerlinggegevens(strings.NewReader(`<?xml version="1.0" encoding="EBCDIC"?><a/>`), soap.Handler{})
	if err == nil || !strings.Contains(err.Error(), "unsupported XML encoding") {
		t.Errorf("EBCDIC: err = %v, want unsupported encoding", err)
	}
}
