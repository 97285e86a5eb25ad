package lassim_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const magisterFixture = "../../testdata/samples/TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml"

func faultEnvelope(code string) string {
	return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>` +
		`<faultcode>s:` + code + `</faultcode><faultstring>recorded</faultstring></s:Fault></s:Body></s:Envelope>`
}

// TestReplay answers from recorded files, most specific name first.
func TestReplay(t *testing.T) {
	fixture, err := os.ReadFile(magisterFixture)
	if err != nil {
		t.Fatal(err)
	}
	const school = "{school}" // replaced by BRIN+dependancecode of the simulated school
	for _, tt := range []struct {
		name       string
		files      map[string]string
		op         uwlr.Operation
		wantPupils int
		wantCode   string
	}{
		{name: "Magister fixture", files: map[string]string{"HaalLeerlinggegevens.xml": string(fixture)},
			op: uwlr.OpHaalLeerlinggegevens, wantPupils: 22},
		{name: "recorded fault", files: map[string]string{"HaalLeerlinggegevens.xml": faultEnvelope(soap.CodeXsdVersieOngeldig)},
			op: uwlr.OpHaalLeerlinggegevens, wantCode: soap.CodeXsdVersieOngeldig},
		{name: "school file before operation file", files: map[string]string{
			school + "_HaalLeerlinggegevens.xml": faultEnvelope(soap.CodeTijdelijkNietBeschikbaar),
			"HaalLeerlinggegevens.xml":           string(fixture)},
			op: uwlr.OpHaalLeerlinggegevens, wantCode: soap.CodeTijdelijkNietBeschikbaar},
		{name: "operation file before default", files: map[string]string{
			"HaalLeerlinggegevens.xml": string(fixture),
			"default.xml":              faultEnvelope(soap.CodeInterneFout)},
			op: uwlr.OpHaalLeerlinggegevens, wantPupils: 22},
		{name: "default.xml", files: map[string]string{"default.xml": string(fixture)},
			op: uwlr.OpHaalStructuur, wantPupils: 22},
		{name: "nothing recorded for the operation", files: map[string]string{"HaalLeerlinggegevens.xml": string(fixture)},
			op: uwlr.OpHaalStructuur, wantCode: soap.CodeInterneFout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var replay *lassim.Replay
			e := startSim(t, lassim.Options{Seed: 1, Pupils: 30}, func(s *lassim.Sim) {
				c := s.World.Schools[0].Creds
				for name, content := range tt.files {
					if len(name) > len(school) && name[:len(school)] == school {
						name = c.Brin + c.Dependancecode + name[len(school):]
					}
					if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				var err error
				if replay, err = lassim.NewReplay(dir); err != nil {
					t.Fatal(err)
				}
				s.Replay = replay
			})
			cl := e.client(0)
			req := soap.Request{Schooljaar: jaar}
			var sum *soap.Summary
			var err error
			if tt.op == uwlr.OpHaalStructuur {
				sum, err = cl.HaalStructuur(ctxT(t), req, soap.Handler{})
			} else {
				sum, err = cl.HaalLeerlinggegevens(ctxT(t), req, soap.Handler{})
			}
			if tt.wantCode != "" {
				if se := soapError(t, err); se.Code != tt.wantCode || se.HTTPStatus != 500 {
					t.Fatalf("error %+v, want fault %s with HTTP 500", se, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sum.Leerlingen != tt.wantPupils || sum.Groepen != 6 || sum.School.Brincode != "99DE" || len(sum.Warnings) != 0 {
				t.Fatalf("summary %+v, want the fixture's %d pupils", sum, tt.wantPupils)
			}
		})
	}
}

func TestNewReplayRejects(t *testing.T) {
	empty := t.TempDir()
	noXML := t.TempDir()
	if err := os.WriteFile(filepath.Join(noXML, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{empty, noXML, filepath.Join(empty, "missing")} {
		if r, err := lassim.NewReplay(dir); err == nil {
			t.Errorf("NewReplay(%s) = %+v, want an error", dir, r)
		}
	}
}
