package mapping_test

import (
	"reflect"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

func warningStrings(ws []mapping.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

func TestGroup(t *testing.T) {
	tests := []struct {
		name     string
		in       uwlr.Groep
		want     gateway.Group
		warnings []string
		fatal    bool
	}{
		{"ok", uwlr.Groep{Key: "G4A", Naam: " Groep 4a ", Jaargroep: "4", Omschrijving: "OMSCHR", Mutatiedatum: "2024-01-01T00:00:00Z"},
			gateway.Group{School: school, Key: "G4A", Name: "Groep 4a", YearGroup: "4"}, nil, false},
		{"combination group", uwlr.Groep{Key: "C", Naam: "3/4", Jaargroep: "C"},
			gateway.Group{School: school, Key: "C", Name: "3/4", YearGroup: "C"}, nil, false},
		{"bad jaargroep", uwlr.Groep{Key: "G9", Naam: "G9", Jaargroep: "9"},
			gateway.Group{School: school, Key: "G9", Name: "G9"},
			[]string{"groep G9: jaargroep: not in the EDEXJaargroep enumeration (B, D, 0-8, 11-16, S, V, C, N, H); left empty"}, false},
		{"missing jaargroep and naam", uwlr.Groep{Key: "G"},
			gateway.Group{School: school, Key: "G"},
			[]string{"groep G: naam: missing", "groep G: jaargroep: missing"}, false},
		{"no key", uwlr.Groep{Naam: "X", Jaargroep: "1"},
			gateway.Group{School: school, Name: "X", YearGroup: "1"},
			[]string{"groep (no key): @key: missing"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ws := mapping.Group(school, &tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Group = %+v, want %+v", got, tt.want)
			}
			if w := warningStrings(ws); !reflect.DeepEqual(w, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", w, tt.warnings)
			}
			if mapping.Unusable(ws) != tt.fatal {
				t.Errorf("Unusable = %v", !tt.fatal)
			}
		})
	}
}

func TestCompositeGroup(t *testing.T) {
	tests := []struct {
		name     string
		in       uwlr.SamengesteldeGroep
		want     gateway.CompositeGroup
		warnings []string
		fatal    bool
	}{
		{"ok", uwlr.SamengesteldeGroep{Key: "S1", Naam: " Muziek ", Omschrijving: "O", Mutatiedatum: "M"},
			gateway.CompositeGroup{School: school, Key: "S1", Name: "Muziek"}, nil, false},
		{"no naam", uwlr.SamengesteldeGroep{Key: "S2", Naam: " "},
			gateway.CompositeGroup{School: school, Key: "S2"}, []string{"samengestelde_groep S2: naam: missing"}, false},
		{"no key", uwlr.SamengesteldeGroep{Naam: "X"},
			gateway.CompositeGroup{School: school, Name: "X"}, []string{"samengestelde_groep (no key): @key: missing"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ws := mapping.CompositeGroup(school, &tt.in)
			if got != tt.want {
				t.Errorf("CompositeGroup = %+v, want %+v", got, tt.want)
			}
			if w := warningStrings(ws); !reflect.DeepEqual(w, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", w, tt.warnings)
			}
			if mapping.Unusable(ws) != tt.fatal {
				t.Errorf("Unusable = %v", !tt.fatal)
			}
		})
	}
}

func TestSchool(t *testing.T) {
	tests := []struct {
		name           string
		in             uwlr.School
		brin, dep, key string
		warnings       []string
		fatal          bool
	}{
		{"brin and dependance", uwlr.School{Brincode: "99DE", Dependancecode: "00"}, "99DE", "00", "", nil, false},
		{"brin only", uwlr.School{Brincode: " 12AB "}, "12AB", "", "", nil, false},
		{"schoolkey only", uwlr.School{Schoolkey: "sk-1"}, "", "", "sk-1", nil, false},
		{"brin and schoolkey", uwlr.School{Brincode: "12AB", Dependancecode: "01", Schoolkey: "sk"}, "12AB", "01", "sk", nil, false},
		{"lower-case brin", uwlr.School{Brincode: "12ab", Schoolkey: "sk"}, "", "", "sk",
			[]string{"school: brincode: not two digits and two upper-case letters; left empty"}, true},
		{"brin6", uwlr.School{Brincode: "12AB00"}, "", "", "",
			[]string{"school: brincode: not two digits and two upper-case letters; left empty"}, true},
		{"non-ascii digits", uwlr.School{Brincode: "١٢AB"}, "", "", "",
			[]string{"school: brincode: not two digits and two upper-case letters; left empty"}, true},
		{"bad dependancecode", uwlr.School{Brincode: "12AB", Dependancecode: "1"}, "12AB", "", "",
			[]string{"school: dependancecode: not two digits; left empty"}, true},
		{"dependancecode without brin", uwlr.School{Dependancecode: "01", Schoolkey: "sk"}, "", "", "sk",
			[]string{"school: dependancecode: given without brincode; ignored"}, false},
		{"no identity", uwlr.School{Instellingsnummer: "123456"}, "", "", "",
			[]string{"school: has neither brincode nor schoolkey"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brin, dep, key, ws := mapping.School(&tt.in)
			if brin != tt.brin || dep != tt.dep || key != tt.key {
				t.Errorf("School = %q %q %q, want %q %q %q", brin, dep, key, tt.brin, tt.dep, tt.key)
			}
			if w := warningStrings(ws); !reflect.DeepEqual(w, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", w, tt.warnings)
			}
			if mapping.Unusable(ws) != tt.fatal {
				t.Errorf("Unusable = %v", !tt.fatal)
			}
		})
	}
}

func TestValidJaargroep(t *testing.T) {
	valid := map[string]bool{}
	for _, j := range []string{"B", "D", "0", "1", "2", "3", "4", "5", "6", "7", "8", "11", "12", "13", "14", "15", "16", "S", "V", "C", "N", "H"} {
		valid[j] = true
	}
	for _, s := range []string{"", " 1", "9", "10", "17", "A", "b", "01", "1a", "groep 1"} {
		valid[s] = false
	}
	for s, want := range valid {
		if got := mapping.ValidJaargroep(s); got != want {
			t.Errorf("ValidJaargroep(%q) = %v", s, got)
		}
	}
}
