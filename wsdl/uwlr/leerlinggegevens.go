package uwlr

import "encoding/xml"

// Autorisatie is the SOAP header every UWLR request carries. The XSD caps each
// field at 64 characters, but real Somtoday keys are 88, so no limit is enforced.
type Autorisatie struct {
	XMLName            xml.Name `xml:"http://www.edustandaard.nl/leerresultaten/2/autorisatie autorisatie"`
	Autorisatiesleutel string   `xml:"autorisatiesleutel"`
	Klantcode          string   `xml:"klantcode"`
	Klantnaam          string   `xml:"klantnaam"`
}

// VerzoekBasis is the XSD group gVerzoekBasis shared by every leerlinggegevens
// request: schooljaar, then brincode+dependancecode or schoolkey, xsdversie,
// gegevenssetid and laatstontvangengegevens, in that order.
type VerzoekBasis struct {
	Schooljaar              string `xml:"schooljaar"`
	Brincode                string `xml:"brincode,omitempty"`
	Dependancecode          string `xml:"dependancecode,omitempty"`
	Schoolkey               string `xml:"schoolkey,omitempty"`
	Xsdversie               string `xml:"xsdversie"`
	Gegevenssetid           string `xml:"gegevenssetid,omitempty"`
	Laatstontvangengegevens string `xml:"laatstontvangengegevens,omitempty"`
}

// LeerlinggegevensVerzoek is the body of HaalLeerlinggegevens.
type LeerlinggegevensVerzoek struct {
	XMLName xml.Name `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerlinggegevens_verzoek"`
	VerzoekBasis
}

// StructuurVerzoek is the body of HaalStructuur.
type StructuurVerzoek struct {
	XMLName xml.Name `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens structuur_verzoek"`
	VerzoekBasis
}

// LeerlingenVerzoek is the body of HaalLeerlingen.
type LeerlingenVerzoek struct {
	XMLName xml.Name `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerlingen_verzoek"`
	VerzoekBasis
	Groepen GroepenSelectie `xml:"groepen"`
}

// LeerkrachtenVerzoek is the body of HaalLeerkrachten.
type LeerkrachtenVerzoek struct {
	XMLName xml.Name `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerkrachten_verzoek"`
	VerzoekBasis
	Groepen GroepenSelectie `xml:"groepen"`
}

// GroepenSelectie names the groups a stepwise request asks for. An empty key
// asks for the pupils or teachers bound to no group of that kind.
type GroepenSelectie struct {
	Groep              []GroepSelectie `xml:"groep"`
	SamengesteldeGroep []GroepSelectie `xml:"samengestelde_groep"`
}

// GroepSelectie is one entry of GroepenSelectie.
type GroepSelectie struct {
	Key string `xml:"key,attr,omitempty"`
}

// Leeg is the XSD type ctpLeeg: an element whose presence is the message.
type Leeg struct{}

// LeerlinggegevensAntwoord is the response of HaalLeerlinggegevens: data, or
// one of the two empty outcomes (both are normal answers, not faults).
type LeerlinggegevensAntwoord struct {
	XMLName          xml.Name          `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerlinggegevens_antwoord"`
	Leerlinggegevens *Leerlinggegevens `xml:"leerlinggegevens,omitempty"`
	Geenwijzigingen  *Leeg             `xml:"geenwijzigingen,omitempty"`
	Geengegevens     *Leeg             `xml:"geengegevens,omitempty"`
}

// Leerlinggegevens is the whole school in one message.
type Leerlinggegevens struct {
	School       School        `xml:"school"`
	Vestigingen  *Vestigingen  `xml:"vestigingen,omitempty"`
	Groepen      *Groepen      `xml:"groepen,omitempty"`
	Leerlingen   Leerlingen    `xml:"leerlingen"`
	Leerkrachten *Leerkrachten `xml:"leerkrachten,omitempty"`
}

// StructuurAntwoord is the response of HaalStructuur.
type StructuurAntwoord struct {
	XMLName         xml.Name                   `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens structuur_antwoord"`
	Structuur       *LeerlinggegevensStructuur `xml:"leerlinggegevens-structuur,omitempty"`
	Geenwijzigingen *Leeg                      `xml:"geenwijzigingen,omitempty"`
	Geengegevens    *Leeg                      `xml:"geengegevens,omitempty"`
}

// LeerlinggegevensStructuur is the school with its branches and groups.
type LeerlinggegevensStructuur struct {
	School      School       `xml:"school"`
	Vestigingen *Vestigingen `xml:"vestigingen,omitempty"`
	Groepen     *Groepen     `xml:"groepen,omitempty"`
}

// LeerlingenAntwoord is the response of HaalLeerlingen.
type LeerlingenAntwoord struct {
	XMLName         xml.Name                    `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerlingen_antwoord"`
	Leerlingen      *LeerlinggegevensLeerlingen `xml:"leerlinggegevens-leerlingen,omitempty"`
	Geenwijzigingen *Leeg                       `xml:"geenwijzigingen,omitempty"`
	Geengegevens    *Leeg                       `xml:"geengegevens,omitempty"`
}

// LeerlinggegevensLeerlingen is the school with the pupils of the requested groups.
type LeerlinggegevensLeerlingen struct {
	School     School     `xml:"school"`
	Leerlingen Leerlingen `xml:"leerlingen"`
}

// LeerkrachtenAntwoord is the response of HaalLeerkrachten.
type LeerkrachtenAntwoord struct {
	XMLName         xml.Name                      `xml:"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens leerkrachten_antwoord"`
	Leerkrachten    *LeerlinggegevensLeerkrachten `xml:"leerlinggegevens-leerkrachten,omitempty"`
	Geenwijzigingen *Leeg                         `xml:"geenwijzigingen,omitempty"`
	Geengegevens    *Leeg                         `xml:"geengegevens,omitempty"`
}

// LeerlinggegevensLeerkrachten is the school with the teachers of the requested groups.
type LeerlinggegevensLeerkrachten struct {
	School       School        `xml:"school"`
	Leerkrachten *Leerkrachten `xml:"leerkrachten,omitempty"`
}

// School is the XSD SchoolType. Schooljaar is a plain string: the published
// enumeration ends at 2024-2025 and current data must still be read.
type School struct {
	Schooljaar        string `xml:"schooljaar"`
	Peildatum         string `xml:"peildatum,omitempty"`
	Brincode          string `xml:"brincode,omitempty"`
	Dependancecode    string `xml:"dependancecode,omitempty"`
	Instellingsnummer string `xml:"instellingsnummer,omitempty"`
	Schoolkey         string `xml:"schoolkey,omitempty"`
	Aanmaakdatum      string `xml:"aanmaakdatum,omitempty"`
	Auteur            string `xml:"auteur,omitempty"`
	Xsdversie         string `xml:"xsdversie,omitempty"`
	Commentaar        string `xml:"commentaar,omitempty"`
}

// Vestigingen lists the branches of a school (ESIS sends them).
type Vestigingen struct {
	Vestiging []Vestiging `xml:"vestiging"`
}

// Vestiging is the XSD VestigingType.
type Vestiging struct {
	Key          string `xml:"key,attr"`
	Naam         string `xml:"naam"`
	Omschrijving string `xml:"omschrijving,omitempty"`
	Mutatiedatum string `xml:"mutatiedatum,omitempty"`
}

// Groepen is the school-wide group list. The XSD allows groep and
// samengestelde_groep in any mix; both kinds are kept, in document order per kind.
type Groepen struct {
	Groep              []Groep              `xml:"groep"`
	SamengesteldeGroep []SamengesteldeGroep `xml:"samengestelde_groep"`
}

// Groep is a home group (stamgroep), the XSD GroepType.
type Groep struct {
	Key          string `xml:"key,attr"`
	Naam         string `xml:"naam"`
	Jaargroep    string `xml:"jaargroep"`
	Omschrijving string `xml:"omschrijving,omitempty"`
	Mutatiedatum string `xml:"mutatiedatum,omitempty"`
}

// SamengesteldeGroep is a composite group (sub-group, lesson group).
type SamengesteldeGroep struct {
	Key          string `xml:"key,attr"`
	Naam         string `xml:"naam"`
	Omschrijving string `xml:"omschrijving,omitempty"`
	Mutatiedatum string `xml:"mutatiedatum,omitempty"`
}

// Leerlingen is the pupil list.
type Leerlingen struct {
	Leerling []Leerling `xml:"leerling"`
}

// Ref is a reference to a group, composite group or branch by its key.
type Ref struct {
	Key string `xml:"key,attr"`
}

// SamengesteldeGroepenRef lists a pupil's composite groups.
type SamengesteldeGroepenRef struct {
	SamengesteldeGroep []Ref `xml:"samengestelde_groep"`
}

// Leerling is the XSD LeerlingType. Key may be empty for UWLR 2.3 pupils that
// carry only an ECK iD. The fields after Vestiging exist so that a message can
// be read and re-emitted faithfully; the mapping layer drops them.
type Leerling struct {
	Key                  string                   `xml:"key,attr,omitempty"`
	Eckid                string                   `xml:"eckid,attr,omitempty"`
	Achternaam           string                   `xml:"achternaam,omitempty"`
	Voorvoegsel          string                   `xml:"voorvoegsel,omitempty"`
	Voornamen            string                   `xml:"voornamen,omitempty"`
	Voorletters          string                   `xml:"voorletters-1,omitempty"`
	Roepnaam             string                   `xml:"roepnaam,omitempty"`
	Geboortedatum        string                   `xml:"geboortedatum,omitempty"`
	Geslacht             string                   `xml:"geslacht,omitempty"`
	StartOndwJgr3        string                   `xml:"start_ondw_jgr3,omitempty"`
	Jaargroep            string                   `xml:"jaargroep,omitempty"`
	Groep                *Ref                     `xml:"groep,omitempty"`
	SamengesteldeGroepen *SamengesteldeGroepenRef `xml:"samengestelde_groepen,omitempty"`
	Vestiging            *Ref                     `xml:"vestiging,omitempty"`
	Gebruikersnaam       string                   `xml:"gebruikersnaam,omitempty"`
	Emailadres           string                   `xml:"emailadres,omitempty"`
	Fotourl              string                   `xml:"fotourl,omitempty"`
	Etniciteit           string                   `xml:"etniciteit,omitempty"`
	Land                 string                   `xml:"land,omitempty"`
	LandVader            string                   `xml:"land_vader,omitempty"`
	LandMoeder           string                   `xml:"land_moeder,omitempty"`
	Sofinummer           string                   `xml:"sofinummer,omitempty"`
	Bsn                  string                   `xml:"bsn,omitempty"`
	Onderwijsnummer      string                   `xml:"onderwijsnummer,omitempty"`
	BsnOndwnr4           string                   `xml:"bsn_ondwnr-4,omitempty"`
	Rijksregisternummer  string                   `xml:"rijksregisternummer,omitempty"`
	GewichtNieuw         string                   `xml:"gewicht_nieuw,omitempty"`
	Gewicht              string                   `xml:"gewicht,omitempty"`
	Postcodenl           string                   `xml:"postcodenl,omitempty"`
	Postnummerbe         string                   `xml:"postnummerbe,omitempty"`
	Postcodeoverig       string                   `xml:"postcodeoverig,omitempty"`
	Instroomdatum        string                   `xml:"instroomdatum,omitempty"`
	Uitstroomdatum       string                   `xml:"uitstroomdatum,omitempty"`
	Mutatiedatum         string                   `xml:"mutatiedatum,omitempty"`
}

// Leerkrachten is the teacher list.
type Leerkrachten struct {
	Leerkracht []Leerkracht `xml:"leerkracht"`
}

// Leerkracht is the XSD LeerkrachtType.
type Leerkracht struct {
	Key             string             `xml:"key,attr,omitempty"`
	Eckid           string             `xml:"eckid,attr,omitempty"`
	Achternaam      string             `xml:"achternaam,omitempty"`
	Voorvoegsel     string             `xml:"voorvoegsel,omitempty"`
	Voornamen       string             `xml:"voornamen,omitempty"`
	Voorletters     string             `xml:"voorletters-1,omitempty"`
	Roepnaam        string             `xml:"roepnaam,omitempty"`
	Gebruikersnaam  string             `xml:"gebruikersnaam,omitempty"`
	Emailadres      string             `xml:"emailadres,omitempty"`
	Rol             []string           `xml:"rol,omitempty"`
	Rolomschrijving []string           `xml:"rolomschrijving,omitempty"`
	Groepen         *LeerkrachtGroepen `xml:"groepen,omitempty"`
	Mutatiedatum    string             `xml:"mutatiedatum,omitempty"`
}

// LeerkrachtGroepen lists the groups and composite groups a teacher works with.
type LeerkrachtGroepen struct {
	Groep              []LeerkrachtGroepRef `xml:"groep"`
	SamengesteldeGroep []LeerkrachtGroepRef `xml:"samengestelde_groep"`
}

// LeerkrachtGroepRef is a teacher's link to one group, with the roles there.
type LeerkrachtGroepRef struct {
	Key             string   `xml:"key,attr"`
	Rol             []string `xml:"rol,omitempty"`
	Rolomschrijving []string `xml:"rolomschrijving,omitempty"`
}
