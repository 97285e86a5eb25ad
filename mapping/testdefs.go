package mapping

// Test definitions (UWLR toets) for the results message.

import (
	"errors"
	"fmt"
	"math/big"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// toets maps a test definition (XSD ctpToets). Its errors name the test by code.
func toets(d gateway.TestDefinition) (uwlr.Toets, error) {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	t := uwlr.Toets{Toetsnaam: d.Name}
	var err error
	t.Toetscode, err = vocabulaire("code", d.Code)
	check(err)
	t.Versie, err = optVocabulaire("version", d.Version)
	check(err)
	t.Leerjaar, err = optVocabulaire("year level", d.YearLevel)
	check(err)
	t.Vakgebied, err = optVocabulaire("subject", d.Subject)
	check(err)
	if !lengthOK(d.Name, 0, 128) {
		check(errors.New("name is longer than 128 characters"))
	}
	if d.Norming != nil {
		t.Toetsnormering, err = normering("norming", *d.Norming)
		check(err)
	}
	if len(d.Hierarchy) > 0 {
		t.Toetshierarchie = &uwlr.Toetshierarchie{}
		for i, h := range d.Hierarchy {
			v, err := vocabulaire(fmt.Sprintf("hierarchy level %d", i+1), h.Term)
			check(err)
			t.Toetshierarchie.Ingang = append(t.Toetshierarchie.Ingang, uwlr.Ingang{Value: v.Value, Vocabulaire: v.Vocabulaire,
				Vocabulairelocatie: v.Vocabulairelocatie, Niveau: h.Level})
		}
	}
	if len(d.Parts) > 0 {
		t.Toetsonderdelen = &uwlr.Toetsonderdelen{}
		seqs, codes := map[uint64]bool{}, map[string]bool{}
		for i, p := range d.Parts {
			name := fmt.Sprintf("part %d", i+1)
			switch {
			case p.Seq == 0:
				check(fmt.Errorf("%s: sequence number must be positive", name))
			case seqs[p.Seq]:
				check(fmt.Errorf("%s: sequence number %d used twice", name, p.Seq))
			case codes[p.Code.Value]:
				check(fmt.Errorf("%s: code %q used twice", name, p.Code.Value))
			}
			seqs[p.Seq], codes[p.Code.Value] = true, true
			code, err := vocabulaire(name+" code", p.Code)
			check(err)
			if !lengthOK(p.Name, 0, 128) {
				check(fmt.Errorf("%s: name is longer than 128 characters", name))
			}
			part := uwlr.Toetsonderdeel{Volgnummer: p.Seq, Code: code, Naam: p.Name}
			if p.Norming != nil {
				part.Normering, err = normering(name+" norming", *p.Norming)
				check(err)
			}
			t.Toetsonderdelen.Toetsonderdeel = append(t.Toetsonderdelen.Toetsonderdeel, part)
		}
	}
	if len(errs) > 0 {
		return uwlr.Toets{}, fmt.Errorf("%w: results message: test %q: %w", gateway.ErrInvalid, d.Code.Value, errors.Join(errs...))
	}
	return t, nil
}

// vocabulaire maps a term that must have a value of 1..256 characters.
func vocabulaire(what string, t gateway.Term) (uwlr.Vocabulaire, error) {
	if !lengthOK(t.Value, 1, 256) {
		return uwlr.Vocabulaire{}, fmt.Errorf("%s must have 1 to 256 characters", what)
	}
	return uwlr.Vocabulaire{Value: t.Value, Vocabulaire: t.Vocabulary, Vocabulairelocatie: t.VocabularyLocation}, nil
}

func optVocabulaire(what string, t *gateway.Term) (*uwlr.Vocabulaire, error) {
	if t == nil {
		return nil, nil
	}
	v, err := vocabulaire(what, *t)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

var (
	ratZero = big.NewRat(0, 1)
	ratOne  = big.NewRat(1, 1)
	ratTen  = big.NewRat(10, 1)
)

// normering maps a norming (XSD ctpNormering): at least one norm, each with
// a term of 1..64 characters and begin <= end; colours with a transparency
// of 0..1; school grades of 1..10.
func normering(what string, n gateway.Norming) (*uwlr.Normering, error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{what}, args...)...))
	}
	out := &uwlr.Normering{Vocabulaire: n.Vocabulary, Vocabulairelocatie: n.VocabularyLocation, Wegingsfactor: n.Weight}
	var err error
	if out.Toetscategorie, err = optVocabulaire("category", n.Category); err != nil {
		fail("%v", err)
	}
	if out.Toetsniveau, err = optVocabulaire("level", n.Level); err != nil {
		fail("%v", err)
	}
	if n.Weight != "" && !xsDecimal.MatchString(n.Weight) {
		fail("weight is not a decimal")
	}
	if len(n.Norms) == 0 {
		fail("no norms")
	}
	for i, nm := range n.Norms {
		norm := uwlr.Norm{Term: nm.Term, Omschrijving: nm.Description, Beginnormwaarde: nm.Begin, Eindnormwaarde: nm.End,
			SchoolcijferVanaf: nm.GradeFrom, SchoolcijferTotenmet: nm.GradeTo}
		if !lengthOK(nm.Term, 1, 64) {
			fail("norm %d: term must have 1 to 64 characters", i+1)
		}
		if !lengthOK(nm.Description, 0, 128) {
			fail("norm %d: description is longer than 128 characters", i+1)
		}
		if nm.Begin > nm.End {
			fail("norm %d: begin %d is above end %d", i+1, nm.Begin, nm.End)
		}
		for _, g := range []struct{ name, v string }{{"grade from", nm.GradeFrom}, {"grade to", nm.GradeTo}} {
			if g.v != "" && !decimalIn(g.v, ratOne, ratTen) {
				fail("norm %d: %s is not a decimal from 1 to 10", i+1, g.name)
			}
		}
		if c := nm.Colour; c != nil {
			if !decimalIn(c.Transparency, ratZero, ratOne) {
				fail("norm %d: colour transparency is not a decimal from 0 to 1", i+1)
			}
			norm.Normkleur = &uwlr.Normkleur{Rood: c.Red, Groen: c.Green, Blauw: c.Blue, Transparantie: c.Transparency}
		}
		out.Norm = append(out.Norm, norm)
	}
	return out, errors.Join(errs...)
}

// decimalIn reports whether s is an xs:decimal within [lo, hi], compared
// exactly (no floating point).
func decimalIn(s string, lo, hi *big.Rat) bool {
	if !xsDecimal.MatchString(s) {
		return false
	}
	v, ok := new(big.Rat).SetString(s)
	return ok && v.Cmp(lo) >= 0 && v.Cmp(hi) <= 0
}

// lengthOK reports whether s has min..max characters, counted as XSD counts
// them (code points).
func lengthOK(s string, min, max int) bool {
	n := utf8.RuneCountInString(s)
	return n >= min && n <= max
}
