package main

// `school contact set` and `school contact show`, and the contact in
// `school show`, on each store.

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSchoolContactE2E(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			s := e.enrol(10)

			// None yet: show exits 1 and says how to set one; school show says none.
			code, _, stderr := e.run("school", "contact", "show", "--school", s.id)
			if code != 1 || !strings.Contains(stderr, "no contact person set") || !strings.Contains(stderr, "school contact set") {
				t.Errorf("contact show before one is set: exit %d, stderr %q", code, stderr)
			}
			if out, _ := e.must(0, "school", "show", "--school", s.id); !strings.Contains(out, "contact person: none set") {
				t.Errorf("school show without a contact:\n%s", out)
			}

			// Bad input names the flags, exits 2 and stores nothing.
			for _, tt := range []struct {
				args []string
				msg  []string
			}{
				{[]string{"--email", "bea@school.example"}, []string{"--name: is required"}},
				{[]string{"--name", "Bea", "--email", "bea-at-school"}, []string{"--email: is not an e-mail address"}},
				{[]string{"--name", "Bea", "--email", "bea@school.example", "--phone", "ring ring"}, []string{"--phone: may hold only digits"}},
				{nil, []string{"--name: is required", "--email: is required"}},
			} {
				code, _, stderr := e.run(append([]string{"school", "contact", "set", "--school", s.id}, tt.args...)...)
				for _, m := range tt.msg {
					if code != 2 || !strings.Contains(stderr, m) {
						t.Errorf("contact set %v: exit %d, stderr %q; want 2 saying %q", tt.args, code, stderr, m)
					}
				}
			}
			if code, _, _ := e.run("school", "contact", "show", "--school", s.id); code != 1 {
				t.Errorf("refused input stored a contact (show exits %d)", code)
			}
			if code, _, stderr := e.run("school", "contact", "set", "--school", "99ZZ00", "--name", "Bea", "--email", "bea@school.example"); code != 1 || !strings.Contains(stderr, "not enrolled") {
				t.Errorf("contact set for an unknown school: exit %d, stderr %q", code, stderr)
			}

			out, _ := e.must(0, "school", "contact", "set", "--school", s.id, "--name", "Bea de Beheerder", "--email", "bea@school.example",
				"--phone", "020 123 45 67", "--by", "Alice Admin")
			if !strings.Contains(out, "contact person set") || !strings.Contains(out, "bea@school.example") || !strings.Contains(out, "by Alice Admin") {
				t.Errorf("contact set:\n%s", out)
			}
			out, _ = e.must(0, "school", "contact", "show", "--school", s.id, "--json")
			var got contactJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if string(got.School) != s.id || got.Name != "Bea de Beheerder" || got.Email != "bea@school.example" || got.Phone != "020 123 45 67" ||
				got.UpdatedBy != "Alice Admin (cli)" || got.UpdatedAt.IsZero() {
				t.Errorf("contact show --json: %+v", got)
			}
			if out, _ := e.must(0, "school", "show", "--school", s.id); !strings.Contains(out, "contact person Bea de Beheerder <bea@school.example>, 020 123 45 67") {
				t.Errorf("school show:\n%s", out)
			}
			var show struct {
				Contact *contactJSON `json:"contact"`
			}
			if out, _ := e.must(0, "school", "show", "--school", s.id, "--json"); json.Unmarshal([]byte(out), &show) != nil || show.Contact == nil || show.Contact.Email != "bea@school.example" {
				t.Errorf("school show --json:\n%s", out)
			}
			if out, _ := e.must(0, "school", "list", "--json"); strings.Contains(out, "bea@school.example") {
				t.Errorf("school list shows the contact person:\n%s", out)
			}

			// The audit log says the contact was set and by whom, not who it is.
			out, _ = e.must(0, "audit", "show", "--school", s.id, "--json")
			if !strings.Contains(out, `"school.contact"`) || !strings.Contains(out, "Alice Admin") {
				t.Errorf("audit show lacks the contact change:\n%s", out)
			}
			for _, v := range []string{"Bea", "bea@school.example", "123 45 67"} {
				if strings.Contains(out, v) {
					t.Errorf("audit show holds the contact's %q", v)
				}
			}
		})
	}
}
