package conformance

import (
	"fmt"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// Target is the LAS endpoint and one school it holds, with valid credentials.
type Target struct {
	Endpoint           string
	Brincode           string
	Dependancecode     string // "" means 00
	Schoolkey          string // used instead of Brincode when set
	Klantcode          string
	Klantnaam          string
	Autorisatiesleutel string
	Xsdversie          string // default 2.2
	Schooljaar         string
}

// request is a v2 leerlinggegevens_verzoek with every field as raw text; an
// empty field is left out.
type request struct {
	key, klantcode, klantnaam             string
	noHeader                              bool
	schooljaar, brin, dep, schoolkey, xsd string
	since                                 string
	garbage                               bool
}

func (t Target) base() request {
	r := request{key: t.Autorisatiesleutel, klantcode: t.Klantcode, klantnaam: t.Klantnaam,
		schooljaar: t.Schooljaar, xsd: t.Xsdversie}
	if t.Schoolkey != "" {
		r.schoolkey = t.Schoolkey
	} else {
		r.brin, r.dep = t.Brincode, t.Dependancecode
		if r.dep == "" {
			r.dep = "00"
		}
	}
	return r
}

func (r request) envelope() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:aut="http://www.edustandaard.nl/leerresultaten/2/autorisatie" xmlns:leer="http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens">` + "\n")
	if !r.noHeader {
		b.WriteString("<soapenv:Header><aut:autorisatie>")
		el(&b, "aut:autorisatiesleutel", r.key, true)
		el(&b, "aut:klantcode", r.klantcode, true)
		el(&b, "aut:klantnaam", r.klantnaam, true)
		b.WriteString("</aut:autorisatie></soapenv:Header>\n")
	}
	b.WriteString("<soapenv:Body><leer:leerlinggegevens_verzoek>")
	el(&b, "leer:schooljaar", r.schooljaar, false)
	el(&b, "leer:brincode", r.brin, false)
	el(&b, "leer:dependancecode", r.dep, false)
	el(&b, "leer:schoolkey", r.schoolkey, false)
	el(&b, "leer:xsdversie", r.xsd, false)
	el(&b, "leer:laatstontvangengegevens", r.since, false)
	if r.garbage {
		// Cut off mid-element, as the suite's "Bagger XML" case does.
		b.WriteString("<leer:kl\n\nnsverzoek>\n</soapenv:Body>\n</soapenv:Envelope>")
		return []byte(b.String())
	}
	b.WriteString("</leer:leerlinggegevens_verzoek></soapenv:Body>\n</soapenv:Envelope>\n")
	return []byte(b.String())
}

func el(b *strings.Builder, name, v string, keepEmpty bool) {
	if v == "" && !keepEmpty {
		return
	}
	fmt.Fprintf(b, "<%s>", name)
	v = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(v)
	b.WriteString(v)
	fmt.Fprintf(b, "</%s>", name)
}

// Case is one conformance case.
type Case struct {
	// Name is the test step name in the official SoapUI suite (plus a
	// qualifier where one v1 case became several v2 cases).
	Name string
	// Suite is the SoapUI test step it comes from ("" for the positive case).
	Suite string
	// Expected is the UWLR fault code, or "" when a normal answer is expected.
	Expected string
	build    func(t Target) request
}

// Cases are the official negative cases mapped to UWLR 2.2, preceded by one
// valid request (the suite's LAS-LG-Nxx) so that a wrong target is not
// mistaken for a conforming LAS.
func Cases() []Case {
	return []Case{
		{Name: "Geldig verzoek", Suite: "LAS-LG-Nxx", Expected: "", build: func(t Target) request { return t.base() }},
		{Name: "Bagger XML", Suite: "Bagger XML", Expected: soap.CodeOngeldigBericht, build: func(t Target) request {
			r := t.base()
			r.garbage = true
			return r
		}},
		{Name: "Ongeldige autorisatieheader (geen header)", Suite: "Ongeldige autorisatieheader", Expected: soap.CodeAutorisatieOngeldig, build: func(t Target) request {
			r := t.base()
			r.noHeader = true
			return r
		}},
		{Name: "Ongeldige autorisatieheader (lege autorisatiesleutel)", Suite: "Ongeldige autorisatieheader", Expected: soap.CodeAutorisatieOngeldig, build: func(t Target) request {
			r := t.base()
			r.key = ""
			return r
		}},
		{Name: "Foute klantnaam", Suite: "Foute klantnaam", Expected: soap.CodeOngeldigeKlantIdentificatie, build: func(t Target) request {
			r := t.base()
			r.klantnaam += "-FOUT"
			return r
		}},
		{Name: "Foute klantcode", Suite: "Foute klantcode", Expected: soap.CodeOngeldigeKlantIdentificatie, build: func(t Target) request {
			r := t.base()
			r.klantcode += "-FOUT"
			return r
		}},
		{Name: "Foute autorisatiesleutel", Suite: "Foute autorisatiesleutel", Expected: soap.CodeAutorisatieOngeldig, build: func(t Target) request {
			r := t.base()
			r.key += "-FOUT"
			return r
		}},
		{Name: "Fout schooljaar", Suite: "Fout schooljaar", Expected: soap.CodeOngeldigBericht, build: func(t Target) request {
			r := t.base()
			r.schooljaar += "-FOUT"
			return r
		}},
		{Name: "Foute BRIN code", Suite: "Foute BRIN code", Expected: soap.CodeAutorisatieOngeldig, build: func(t Target) request {
			r := t.base()
			r.schoolkey, r.brin, r.dep = "", "00ZZ", "00"
			if t.Brincode == "00ZZ" {
				r.brin = "01ZZ"
			}
			return r
		}},
		{Name: "Invalide BRIN code", Suite: "Invalide BRIN code", Expected: soap.CodeOngeldigBericht, build: func(t Target) request {
			r := t.base()
			r.schoolkey, r.brin = "", "ONGELDIGEBRINCODE"
			return r
		}},
		{Name: "Foute dependance code", Suite: "Foute dependance code", Expected: soap.CodeAutorisatieOngeldig, build: func(t Target) request {
			r := t.base()
			if r.brin == "" {
				r.schoolkey, r.brin = "", t.Brincode
			}
			// A well-formed code that is not this school's.
			r.dep = "00"
			if t.Dependancecode == "" || t.Dependancecode == "00" {
				r.dep = "99"
			}
			return r
		}},
		{Name: "Invalide dependance code", Suite: "Invalide dependance code", Expected: soap.CodeOngeldigBericht, build: func(t Target) request {
			r := t.base()
			if r.brin == "" {
				r.schoolkey, r.brin = "", t.Brincode
			}
			r.dep = "ONGELDIGEDEPENDANCECODE"
			return r
		}},
		{Name: "Foute schoolkey", Suite: "Foute schoolkey", Expected: soap.CodeAutorisatieOngeldig, build: func(t Target) request {
			r := t.base()
			r.brin, r.dep = "", ""
			r.schoolkey = t.Schoolkey + "-FOUT"
			if t.Schoolkey == "" {
				r.schoolkey = "ONBEKEND-FOUT"
			}
			return r
		}},
		{Name: "Foute XSD versie", Suite: "Foute XSD versie", Expected: soap.CodeXsdVersieOngeldig, build: func(t Target) request {
			r := t.base()
			r.xsd += "-FOUT"
			return r
		}},
		{Name: "Invalide datum", Suite: "Invalide datum", Expected: soap.CodeOngeldigBericht, build: func(t Target) request {
			r := t.base()
			r.since = "ONGELDIGEDATUM"
			return r
		}},
	}
}
