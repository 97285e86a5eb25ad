package uwlr

import "encoding/xml"

// LeerresultatenVerzoek is the body of BrengLeerresultaten: the school, one
// toetsafname per pupil, and the definitions of every test reported on (the
// XSD keyref requires each resultaat/toetscode to appear in toetsen).
type LeerresultatenVerzoek struct {
	XMLName      xml.Name         `xml:"http://www.edustandaard.nl/leerresultaten/2/leerresultaten leerresultaten_verzoek"`
	School       ResultatenSchool `xml:"school"`
	Toetsafnames Toetsafnames     `xml:"toetsafnames"`
	Toetsen      Toetsen          `xml:"toetsen"`
}

// LeerresultatenBevestiging is the (empty) success answer to BrengLeerresultaten.
type LeerresultatenBevestiging struct {
	XMLName xml.Name `xml:"http://www.edustandaard.nl/leerresultaten/2/leerresultaten leerresultaten_bevestiging"`
}

// ResultatenSchool is the XSD ctpSchool of the results message. Aanmaakdatum and
// Xsdversie are required there.
type ResultatenSchool struct {
	Schooljaar     string `xml:"schooljaar"`
	Brincode       string `xml:"brincode,omitempty"`
	Dependancecode string `xml:"dependancecode,omitempty"`
	Schoolkey      string `xml:"schoolkey,omitempty"`
	Aanmaakdatum   string `xml:"aanmaakdatum"`
	Auteur         string `xml:"auteur,omitempty"`
	Xsdversie      string `xml:"xsdversie"`
	Commentaar     string `xml:"commentaar,omitempty"`
}

// Toetsafnames lists the test sessions, one per pupil.
type Toetsafnames struct {
	Toetsafname []Toetsafname `xml:"toetsafname"`
}

// Toetsafname is one pupil's results. Leerlingid is the LAS pupil key; Eckid is
// the ECK iD when known (added in 2.2).
type Toetsafname struct {
	Leerlingid           string      `xml:"leerlingid"`
	Eckid                string      `xml:"eckid,omitempty"`
	Resultaatverwerkerid string      `xml:"resultaatverwerkerid,omitempty"`
	Resultaten           []Resultaat `xml:"resultaten>resultaat"`
}

// Resultaat is one result. Key must be unique in the message and stable across
// resends. Exactly one of Score and Osoresultaat is set. Score is text: "0" is
// a real score and is sent, "" means no score element (a missing score is never
// invented). The XSD types it xs:nonNegativeInteger; a receiver profile that
// takes decimal scores (RTTI, docs/UWLR-SPEC.md §2.4) gets a decimal text here, which the
// standard schema rejects.
type Resultaat struct {
	Key                string        `xml:"key,attr"`
	Afnamedatum        string        `xml:"afnamedatum"`
	Toetscode          string        `xml:"toetscode"`
	Versie             *Vocabulaire  `xml:"versie,omitempty"`
	Toetsonderdeelcode string        `xml:"toetsonderdeelcode,omitempty"`
	Score              string        `xml:"score,omitempty"`
	Osoresultaat       *OsoResultaat `xml:"osoresultaat,omitempty"`
	Infourl            string        `xml:"infourl,omitempty"`
}

// OsoResultaat carries OSO scores, in the OSO 1.2 dossier namespace.
type OsoResultaat struct {
	Toetsscore      *Toetsscore       `xml:"http://www.edustandaard.nl/oso_gegevensset/1.2/dossier toetsscore,omitempty"`
	Referentiescore []Referentiescore `xml:"http://www.edustandaard.nl/oso_gegevensset/1.2/dossier referentiescore,omitempty"`
}

// Toetsscore is the OSO toetsscoreType. Decimals stay strings so that no
// precision is lost between intake and wire.
type Toetsscore struct {
	Aantalopgaven            *int                      `xml:"aantalopgaven,omitempty"`
	Aantalgoed               *int                      `xml:"aantalgoed,omitempty"`
	Aantalfout               *int                      `xml:"aantalfout,omitempty"`
	Aantalgelezen            *int                      `xml:"aantalgelezen,omitempty"`
	Tijd                     string                    `xml:"tijd,omitempty"`
	Vaardigheidsscore        string                    `xml:"vaardigheidsscore,omitempty"`
	Codevaardigheidsschaal   string                    `xml:"codevaardigheidsschaal,omitempty"`
	Betrouwbaarheidsinterval *Betrouwbaarheidsinterval `xml:"betrouwbaarheidsinterval,omitempty"`
}

// Betrouwbaarheidsinterval is a confidence interval.
type Betrouwbaarheidsinterval struct {
	Bivlaag string `xml:"bivlaag"`
	Bivhoog string `xml:"bivhoog"`
}

// Referentiescore is the OSO referentiescoreType.
type Referentiescore struct {
	Codereferentiescore    string `xml:"codereferentiescore"`
	Codevergelijkingsgroep string `xml:"codevergelijkingsgroep"`
	Waarde                 string `xml:"waarde"`
	Kwalificatie           string `xml:"kwalificatie,omitempty"`
}

// Vocabulaire is the XSD ctpVocabulaireGebondenVeld: a value with an optional
// vocabulary binding.
type Vocabulaire struct {
	Value              string `xml:",chardata"`
	Vocabulaire        string `xml:"vocabulaire,attr,omitempty"`
	Vocabulairelocatie string `xml:"vocabulairelocatie,attr,omitempty"`
}

// Toetsen lists the test definitions.
type Toetsen struct {
	Toets []Toets `xml:"toets"`
}

// Toets is the XSD ctpToets.
type Toets struct {
	Toetscode       Vocabulaire      `xml:"toetscode"`
	Versie          *Vocabulaire     `xml:"versie,omitempty"`
	Toetsnaam       string           `xml:"toetsnaam,omitempty"`
	Leerjaar        *Vocabulaire     `xml:"leerjaar,omitempty"`
	Vakgebied       *Vocabulaire     `xml:"vakgebied,omitempty"`
	Toetsnormering  *Normering       `xml:"toetsnormering,omitempty"`
	Toetshierarchie *Toetshierarchie `xml:"toetshierarchie,omitempty"`
	Toetsonderdelen *Toetsonderdelen `xml:"toetsonderdelen,omitempty"`
}

// Toetshierarchie places a test in a hierarchy of vocabulary terms.
type Toetshierarchie struct {
	Ingang []Ingang `xml:"ingang"`
}

// Ingang is one level of a Toetshierarchie.
type Ingang struct {
	Value              string `xml:",chardata"`
	Vocabulaire        string `xml:"vocabulaire,attr,omitempty"`
	Vocabulairelocatie string `xml:"vocabulairelocatie,attr,omitempty"`
	Niveau             int    `xml:"niveau,attr"`
}

// Toetsonderdelen lists the parts of a test.
type Toetsonderdelen struct {
	Toetsonderdeel []Toetsonderdeel `xml:"toetsonderdeel"`
}

// Toetsonderdeel is the XSD ctpToetsOnderdeel.
type Toetsonderdeel struct {
	Volgnummer uint64      `xml:"toetsonderdeelvolgnummer"`
	Code       Vocabulaire `xml:"toetsonderdeelcode"`
	Naam       string      `xml:"toetsonderdeelnaam,omitempty"`
	Normering  *Normering  `xml:"toetsonderdeelnormering,omitempty"`
}

// Normering is the XSD ctpNormering: how scores map to terms.
type Normering struct {
	Vocabulaire        string       `xml:"vocabulaire,attr,omitempty"`
	Vocabulairelocatie string       `xml:"vocabulairelocatie,attr,omitempty"`
	Toetscategorie     *Vocabulaire `xml:"toetscategorie,omitempty"`
	Toetsniveau        *Vocabulaire `xml:"toetsniveau,omitempty"`
	Wegingsfactor      string       `xml:"wegingsfactor,omitempty"`
	Norm               []Norm       `xml:"norm"`
}

// Norm is one band of a Normering.
type Norm struct {
	Term                 string     `xml:"term"`
	Omschrijving         string     `xml:"omschrijving,omitempty"`
	Beginnormwaarde      uint64     `xml:"beginnormwaarde"`
	Eindnormwaarde       uint64     `xml:"eindnormwaarde"`
	Normkleur            *Normkleur `xml:"normkleur,omitempty"`
	SchoolcijferVanaf    string     `xml:"schoolcijfer_vanaf,omitempty"`
	SchoolcijferTotenmet string     `xml:"schoolcijfer_totenmet,omitempty"`
}

// Normkleur is the colour of a norm band.
type Normkleur struct {
	Rood          uint8  `xml:"rood_code"`
	Groen         uint8  `xml:"groen_code"`
	Blauw         uint8  `xml:"blauw_code"`
	Transparantie string `xml:"transparantie"`
}

// Fault is a SOAP 1.1 Fault. Code keeps the prefix as sent (e.g.
// "soap:Client.AutorisatieOngeldig"); Detail keeps the raw inner XML.
type Fault struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
	Code    string   `xml:"faultcode"`
	String  string   `xml:"faultstring"`
	Actor   string   `xml:"faultactor,omitempty"`
	Detail  *Detail  `xml:"detail,omitempty"`
}

// Detail is the free-form detail of a Fault.
type Detail struct {
	Inner string `xml:",innerxml"`
}
