package app_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

// contactEntries returns the school.contact entries of a school's chain.
func (f *fixture) contactEntries(id gateway.SchoolID) []gateway.AuditEntry {
	f.t.Helper()
	var out []gateway.AuditEntry
	err := f.store.WalkAudit(ctx(f.t), gateway.AuditChainOf(id), func(e gateway.AuditEntry) error {
		if e.Kind == gateway.AuditSchoolContact {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// TestSchoolContact: the contact person is set on the school (trimmed),
// read back, changed; the audit records which fields changed and by whom,
// never a value; the same values again record nothing; re-enrolling the
// school keeps the contact.
func TestSchoolContact(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		if _, err := f.app.SchoolContact(ctx(t), f.A); !errors.Is(err, gateway.ErrNotFound) || !strings.Contains(err.Error(), "no contact person") {
			t.Errorf("SchoolContact before one is set = %v, want ErrNotFound (none set)", err)
		}
		before := f.school(f.A)
		got, err := f.app.SetSchoolContact(ctx(t), f.A, gateway.SchoolContact{Name: "  Bea de Beheerder ", Email: " bea@school.example\t", Phone: "+31 (0)20-123 45 67"}, "Anna Admin")
		if err != nil {
			t.Fatal(err)
		}
		want := gateway.SchoolContact{Name: "Bea de Beheerder", Email: "bea@school.example", Phone: "+31 (0)20-123 45 67",
			UpdatedAt: start.UTC(), UpdatedBy: "Anna Admin"}
		if !sameContact(got, want) {
			t.Errorf("SetSchoolContact = %+v, want %+v", got, want)
		}
		if read, err := f.app.SchoolContact(ctx(t), f.A); err != nil || !sameContact(read, want) {
			t.Errorf("SchoolContact = %+v, %v; want %+v", read, err, want)
		}
		after := f.school(f.A)
		if after.Contact == nil || !sameContact(*after.Contact, want) || !slices.Equal(after.SealedKey, before.SealedKey) || after.Endpoint != before.Endpoint {
			t.Errorf("stored school %+v: want the contact set and nothing else changed", after)
		}
		if f.school(f.B).Contact != nil {
			t.Error("school B got a contact person")
		}

		// Same values (after trimming): nothing recorded.
		if _, err := f.app.SetSchoolContact(ctx(t), f.A, gateway.SchoolContact{Name: "Bea de Beheerder", Email: "bea@school.example", Phone: "+31 (0)20-123 45 67"}, "Other"); err != nil {
			t.Fatal(err)
		}
		// A new e-mail address, no phone.
		got, err = f.app.SetSchoolContact(ctx(t), f.A, gateway.SchoolContact{Name: "Bea de Beheerder", Email: "b.beheer@school.example"}, "")
		if err != nil || got.Email != "b.beheer@school.example" || got.Phone != "" || got.UpdatedBy != "cli" {
			t.Errorf("changed contact = %+v, %v", got, err)
		}
		entries := f.contactEntries(f.A)
		if len(entries) != 2 {
			t.Fatalf("%d school.contact entries, want 2 (set, changed): %+v", len(entries), entries)
		}
		for i, w := range []struct{ actor, action, fields string }{{"Anna Admin", "set", "name,email,phone"}, {"cli", "changed", "email,phone"}} {
			e := entries[i]
			if e.Actor != w.actor || e.Details["action"] != w.action || e.Details["fields"] != w.fields || len(e.Details) != 2 {
				t.Errorf("entry %d: actor %q, details %v; want %s, action %s, fields %s", i, e.Actor, e.Details, w.actor, w.action, w.fields)
			}
		}
		all, _ := json.Marshal(entries)
		for _, v := range []string{"Bea", "Beheerder", "school.example", "123 45 67"} {
			if strings.Contains(string(all), v) {
				t.Errorf("an audit entry holds the contact's %q: %s", v, all)
			}
		}

		// Re-enrolling the school (a changed connection) keeps its contact.
		c := f.world.Schools[0].Creds
		if _, created, err := f.app.EnrolSchool(ctx(t), app.Enrolment{Brin: c.Brin, Dependancecode: c.Dependancecode, Endpoint: c.Endpoint,
			Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Key: c.Autorisatiesleutel, Xsdversie: c.Xsdversie}, "fixture"); err != nil || created {
			t.Fatalf("re-enrol: created %v, %v", created, err)
		}
		if s := f.school(f.A); s.Contact == nil || s.Contact.Email != "b.beheer@school.example" {
			t.Errorf("after re-enrolling the contact is %+v", s.Contact)
		}
	})
}

func sameContact(a, b gateway.SchoolContact) bool {
	return a.Name == b.Name && a.Email == b.Email && a.Phone == b.Phone && a.UpdatedAt.Equal(b.UpdatedAt) && a.UpdatedBy == b.UpdatedBy
}

// TestSchoolContactInvalid: bad input names every bad field, says why
// without repeating the value, and stores and records nothing.
func TestSchoolContactInvalid(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		ok := gateway.SchoolContact{Name: "Bea", Email: "bea@school.example"}
		with := func(edit func(*gateway.SchoolContact)) gateway.SchoolContact { c := ok; edit(&c); return c }
		for _, tc := range []struct {
			name   string
			c      gateway.SchoolContact
			fields []string
		}{
			{"nothing", gateway.SchoolContact{}, []string{"name", "email"}},
			{"blank name", with(func(c *gateway.SchoolContact) { c.Name = " \t " }), []string{"name"}},
			{"name with a line break", with(func(c *gateway.SchoolContact) { c.Name = "Bea\nEvil: header" }), []string{"name"}},
			{"name too long", with(func(c *gateway.SchoolContact) { c.Name = strings.Repeat("é", 201) }), []string{"name"}},
			{"no at", with(func(c *gateway.SchoolContact) { c.Email = "bea.school.example" }), []string{"email"}},
			{"no domain dot", with(func(c *gateway.SchoolContact) { c.Email = "bea@localhost" }), []string{"email"}},
			{"display name", with(func(c *gateway.SchoolContact) { c.Email = "Bea <bea@school.example>" }), []string{"email"}},
			{"two addresses", with(func(c *gateway.SchoolContact) { c.Email = "bea@school.example, eve@evil.example" }), []string{"email"}},
			{"address literal", with(func(c *gateway.SchoolContact) { c.Email = "bea@[192.0.2.1]" }), []string{"email"}},
			{"trailing dot", with(func(c *gateway.SchoolContact) { c.Email = "bea@school.example." }), []string{"email"}},
			{"email too long", with(func(c *gateway.SchoolContact) { c.Email = strings.Repeat("b", 250) + "@school.example" }), []string{"email"}},
			{"phone words", with(func(c *gateway.SchoolContact) { c.Phone = "call the office" }), []string{"phone"}},
			{"phone too short", with(func(c *gateway.SchoolContact) { c.Phone = "12 34" }), []string{"phone"}},
			{"phone too many digits", with(func(c *gateway.SchoolContact) { c.Phone = "+31 6 1234 5678 90123" }), []string{"phone"}},
			{"plus inside", with(func(c *gateway.SchoolContact) { c.Phone = "020+1234567" }), []string{"phone"}},
			{"all three", gateway.SchoolContact{Name: "", Email: "bea", Phone: "x"}, []string{"name", "email", "phone"}},
		} {
			_, err := f.app.SetSchoolContact(ctx(t), f.A, tc.c, "t")
			var fields gateway.InvalidFields
			if !errors.Is(err, gateway.ErrInvalid) || !errors.As(err, &fields) {
				t.Errorf("%s: %v, want InvalidFields", tc.name, err)
				continue
			}
			var names []string
			for _, p := range fields {
				names = append(names, p.Position)
				if p.Reason == "" || (tc.c.Email != "" && strings.Contains(p.Reason, tc.c.Email)) {
					t.Errorf("%s: reason %q", tc.name, p.Reason)
				}
			}
			if !slices.Equal(names, tc.fields) {
				t.Errorf("%s: fields %v, want %v (%v)", tc.name, names, tc.fields, err)
			}
		}
		if s := f.school(f.A); s.Contact != nil {
			t.Errorf("refused input stored a contact: %+v", s.Contact)
		}
		if n := len(f.contactEntries(f.A)); n != 0 {
			t.Errorf("refused input recorded %d audit entries", n)
		}
		// What the rules accept.
		for _, c := range []gateway.SchoolContact{
			{Name: "José Ñúñez-O'Brien", Email: "jose.nunez+uwlr@sub.school.example", Phone: "0201234567"},
			{Name: "B", Email: "b@x.nl", Phone: "+31.20/123.45.67"},
		} {
			if _, err := f.app.SetSchoolContact(ctx(t), f.A, c, "t"); err != nil {
				t.Errorf("%+v refused: %v", c, err)
			}
		}
	})
}

// TestSyncAndContactSetInterleave: a contact person set while a sync runs
// is kept, and so is the sync's own pull time.
func TestSyncAndContactSetInterleave(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		f.duringSync(func() {
			if _, err := f.app.SetSchoolContact(ctx(t), f.A, gateway.SchoolContact{Name: "Bea", Email: "bea@school.example"}, "admin"); err != nil {
				t.Errorf("contact set during the sync: %v", err)
			}
		})
		f.sync(f.app, f.A)
		s := f.school(f.A)
		if s.Contact == nil || s.Contact.Email != "bea@school.example" {
			t.Errorf("after the sync the contact is %+v: the sync wrote back the school it read", s.Contact)
		}
		if !s.LastPulledAt.Equal(start.UTC()) {
			t.Errorf("LastPulledAt = %v, want the sync's start %v", s.LastPulledAt, start)
		}
	})
}
