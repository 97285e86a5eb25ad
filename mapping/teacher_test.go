package mapping_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

func TestTeacher(t *testing.T) {
	tests := []struct {
		name     string
		in       uwlr.Leerkracht
		want     gateway.Teacher
		eckid    string
		warnings []string
	}{
		{
			name: "full",
			in: uwlr.Leerkracht{
				Key: "T1", Eckid: validEckID, Achternaam: "Bakker", Voorvoegsel: " de ", Roepnaam: "Piet",
				Voornamen: "VOORNAMEN-Pieter Jan", Voorletters: "VL-P.J.", Gebruikersnaam: "USER-pbakker",
				Emailadres: " p.bakker@school.example ", Mutatiedatum: "2024-01-02T03:04:05Z",
				Rol: []string{"LRK", "ib"}, Rolomschrijving: []string{"Leerkracht groep 4"},
				Groepen: &uwlr.LeerkrachtGroepen{
					Groep: []uwlr.LeerkrachtGroepRef{
						{Key: "G4B", Rol: []string{"LRK"}},
						{Key: "G4A", Rol: []string{"KLA"}, Rolomschrijving: []string{"Duo-partner"}},
						{Key: "G4A"},
					},
					SamengesteldeGroep: []uwlr.LeerkrachtGroepRef{{Key: "S2", Rol: []string{"VAK"}}, {Key: "S1"}},
				},
			},
			want: gateway.Teacher{
				School: school, Key: "T1", LastName: "Bakker", Prefix: "de", FirstName: "Piet",
				Email:              "p.bakker@school.example",
				Roles:              []string{"Duo-partner", "IB", "KLA", "LRK", "Leerkracht groep 4", "VAK"},
				GroupKeys:          []string{"G4A", "G4B"},
				CompositeGroupKeys: []string{"S1", "S2"},
			},
			eckid: validEckID,
		},
		{
			name: "unknown role code kept as text",
			in:   uwlr.Leerkracht{Key: "T2", Roepnaam: "X", Rol: []string{"XYZ", " ", ""}, Rolomschrijving: []string{""}},
			want: gateway.Teacher{School: school, Key: "T2", FirstName: "X", Roles: []string{"XYZ"}},
			warnings: []string{
				"leerkracht T2: rol: not an EDEX role code (ADJ ADM CON DIR ICT IB KLA LRK LOS LOC OWA OUD RT SMW STA VAK); kept as role text",
			},
		},
		{
			name: "unknown role code on a group ref",
			in: uwlr.Leerkracht{Key: "T3", Roepnaam: "X", Groepen: &uwlr.LeerkrachtGroepen{
				SamengesteldeGroep: []uwlr.LeerkrachtGroepRef{{Key: "S1", Rol: []string{"juf"}}},
			}},
			want:     gateway.Teacher{School: school, Key: "T3", FirstName: "X", Roles: []string{"juf"}, CompositeGroupKeys: []string{"S1"}},
			warnings: []string{"leerkracht T3: samengestelde_groep rol: not an EDEX role code (ADJ ADM CON DIR ICT IB KLA LRK LOS LOC OWA OUD RT SMW STA VAK); kept as role text"},
		},
		{
			name:     "no identity",
			in:       uwlr.Leerkracht{Achternaam: "X"},
			want:     gateway.Teacher{School: school, LastName: "X"},
			warnings: []string{"leerkracht (no key): has neither key nor eckid"},
		},
		{
			name:     "placeholder eckid",
			in:       uwlr.Leerkracht{Key: "T4", Eckid: "eckid_T4", Achternaam: "X"},
			want:     gateway.Teacher{School: school, Key: "T4", LastName: "X"},
			eckid:    "eckid_T4",
			warnings: []string{"leerkracht T4: @eckid: not of the form https://ketenid.nl/<segment>/<128 hex>; kept"},
		},
		{
			name: "group refs without key",
			in: uwlr.Leerkracht{Key: "T5", Achternaam: "X", Groepen: &uwlr.LeerkrachtGroepen{
				Groep: []uwlr.LeerkrachtGroepRef{{}}, SamengesteldeGroep: []uwlr.LeerkrachtGroepRef{{}},
			}},
			want: gateway.Teacher{School: school, Key: "T5", LastName: "X"},
			warnings: []string{
				"leerkracht T5: groep: reference without key; dropped",
				"leerkracht T5: samengestelde_groep: reference without key; dropped",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, eckid, ws := mapping.Teacher(school, &tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Teacher:\n got %+v\nwant %+v", got, tt.want)
			}
			if eckid != tt.eckid {
				t.Errorf("eckid = %q, want %q", eckid, tt.eckid)
			}
			var gotW []string
			for _, w := range ws {
				gotW = append(gotW, w.String())
			}
			if !reflect.DeepEqual(gotW, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", gotW, tt.warnings)
			}
			if mapping.Unusable(ws) != (tt.in.Key == "" && tt.in.Eckid == "") {
				t.Errorf("Unusable = %v", mapping.Unusable(ws))
			}
			js, _ := json.Marshal(got)
			for _, out := range []string{string(js), fmt.Sprintf("%+v", got)} {
				for _, leak := range []string{"VOORNAMEN-", "VL-", "USER-", "2024-01-02", validEckID} {
					if strings.Contains(out, leak) {
						t.Errorf("%q leaked: %s", leak, out)
					}
				}
			}
		})
	}
}

func TestRoleCodes(t *testing.T) {
	codes := mapping.RoleCodes()
	if len(codes) != 16 {
		t.Fatalf("%d codes", len(codes))
	}
	for _, c := range codes {
		if !mapping.IsRoleCode(c) {
			t.Errorf("IsRoleCode(%q) = false", c)
		}
	}
	codes[0] = "changed"
	if mapping.RoleCodes()[0] == "changed" {
		t.Error("RoleCodes returns the package's own slice")
	}
	if mapping.IsRoleCode("lrk") || mapping.IsRoleCode("") {
		t.Error("IsRoleCode accepts non-codes")
	}
}
