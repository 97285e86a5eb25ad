package soap_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// wantProfiles is the vendor table written out, so that a change to a
// vendor's wire facts has to be made on purpose in both places.
var wantProfiles = map[string]soap.Profile{
	"esis":     {Name: "esis", Xsdversie: "2.2", DefaultCap: 2},
	"iddink":   {Name: "iddink", Xsdversie: "2.3", DefaultCap: 2, Headers: []soap.VendorHeader{{Name: "Iddinkhub-Subscription-Key", Secret: true, Flag: "subscription-key-file", Field: "subscription_key"}}},
	"magister": {Name: "magister", Xsdversie: "2.3", DefaultCap: 4},
	"somtoday": {Name: "somtoday", Xsdversie: "2.2", QuoteSOAPAction: true, DefaultCap: 4},
	"standard": {Name: "standard", Xsdversie: "2.2", Incremental: true, DefaultCap: 8},
}

func TestProfileTable(t *testing.T) {
	got := soap.Profiles()
	if len(got) != len(wantProfiles) {
		t.Errorf("%d profiles, want %d", len(got), len(wantProfiles))
	}
	for _, p := range got {
		want, ok := wantProfiles[p.Name]
		if !ok {
			t.Errorf("unexpected profile %q", p.Name)
			continue
		}
		if p.Xsdversie != want.Xsdversie || p.Incremental != want.Incremental || p.QuoteSOAPAction != want.QuoteSOAPAction ||
			p.DefaultCap != want.DefaultCap || !slices.Equal(p.Headers, want.Headers) {
			t.Errorf("profile %s = %+v, want %+v", p.Name, p, want)
		}
	}
}

var (
	lowerName = regexp.MustCompile(`^[a-z]+$`)
	snakeName = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	fileFlag  = regexp.MustCompile(`^[a-z]+(-[a-z]+)*-file$`)
	// tchar of RFC 9110 5.6.2: what a header name may be made of.
	token = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// TestProfileInvariants: the rules every row must keep, whatever vendor is
// added: the name can be a config key (schedule.cap_<name>) and an
// environment variable, and header names work with http.Header.
func TestProfileInvariants(t *testing.T) {
	names := soap.ProfileNames()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("ProfileNames = %v, want sorted and unique", names)
	}
	if !slices.Contains(names, soap.StandardProfile) {
		t.Errorf("no %q profile", soap.StandardProfile)
	}
	fields, flags := map[string]string{}, map[string]string{}
	for i, p := range soap.Profiles() {
		if p.Name != names[i] {
			t.Errorf("Profiles()[%d] is %q, ProfileNames()[%d] is %q", i, p.Name, i, names[i])
		}
		if !lowerName.MatchString(p.Name) {
			t.Errorf("profile %q: name must be lower-case letters only", p.Name)
		}
		if !slices.Contains([]string{"2.2", "2.3"}, p.Xsdversie) {
			t.Errorf("profile %s: xsdversie %q", p.Name, p.Xsdversie)
		}
		if p.DefaultCap < 1 {
			t.Errorf("profile %s: default cap %d", p.Name, p.DefaultCap)
		}
		seen := map[string]bool{}
		for _, h := range p.Headers {
			if !token.MatchString(h.Name) || h.Name != http.CanonicalHeaderKey(h.Name) {
				t.Errorf("profile %s: header %q is not a canonical header name (%q)", p.Name, h.Name, http.CanonicalHeaderKey(h.Name))
			}
			if seen[h.Name] {
				t.Errorf("profile %s: header %s twice", p.Name, h.Name)
			}
			seen[h.Name] = true
			if !snakeName.MatchString(h.Field) || !fileFlag.MatchString(h.Flag) {
				t.Errorf("profile %s header %s: field %q must be snake_case, flag %q kebab-case ending in -file", p.Name, h.Name, h.Field, h.Flag)
			}
			// One field means one value: the same field must name the same
			// header (and flag) in every profile that uses it.
			if prev, ok := fields[h.Field]; ok && prev != h.Name {
				t.Errorf("field %s names header %s and %s", h.Field, prev, h.Name)
			}
			if prev, ok := flags[h.Flag]; ok && prev != h.Field {
				t.Errorf("flag %s supplies field %s and %s", h.Flag, prev, h.Field)
			}
			fields[h.Field], flags[h.Flag] = h.Name, h.Field
		}
	}
	for _, taken := range []string{"key-file", "client-key-passphrase-file"} {
		if _, ok := flags[taken]; ok {
			t.Errorf("flag %s is already a school add flag", taken)
		}
	}
}

func TestLookupProfile(t *testing.T) {
	for _, name := range soap.ProfileNames() {
		p, err := soap.LookupProfile(name)
		if err != nil || p.Name != name {
			t.Errorf("LookupProfile(%q) = %+v, %v", name, p, err)
		}
	}
	if p, err := soap.LookupProfile(""); err != nil || p.Name != soap.StandardProfile {
		t.Errorf("LookupProfile(\"\") = %+v, %v; want the standard profile", p, err)
	}
	for _, name := range []string{"nope", "Magister", " standard"} {
		_, err := soap.LookupProfile(name)
		if !errors.Is(err, gateway.ErrInvalid) || !strings.Contains(err.Error(), "esis, iddink, magister, somtoday, standard") {
			t.Errorf("LookupProfile(%q) error %v: want ErrInvalid listing the known profiles", name, err)
		}
	}
}

func TestProfilesAreCopies(t *testing.T) {
	p, _ := soap.LookupProfile("iddink")
	p.Headers[0].Name = "X-Changed"
	all := soap.Profiles()
	for i := range all {
		for j := range all[i].Headers {
			all[i].Headers[j].Secret = false
		}
	}
	again, _ := soap.LookupProfile("iddink")
	if again.Headers[0].Name != "Iddinkhub-Subscription-Key" || !again.Headers[0].Secret {
		t.Fatalf("a caller changed the table: %+v", again.Headers)
	}
}

func TestUseSince(t *testing.T) {
	for vendor, want := range map[string]bool{
		"": true, "standard": true,
		"magister": false, "iddink": false, "somtoday": false, "esis": false,
		"parnassys": false, "Standard": false,
	} {
		if got := soap.UseSince(vendor); got != want {
			t.Errorf("UseSince(%q) = %v, want %v", vendor, got, want)
		}
	}
}

func TestApplyHeaders(t *testing.T) {
	iddink, _ := soap.LookupProfile("iddink")
	standard, _ := soap.LookupProfile("standard")
	const secret = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		p       soap.Profile
		values  map[string]string
		want    http.Header // nil: error expected
		wantErr []string    // substrings of the error
	}{
		{"no headers", standard, nil, http.Header{"Keep": {"me"}}, nil},
		{"subscription key", iddink, map[string]string{"subscription_key": secret, "other": "x"},
			http.Header{"Keep": {"me"}, "Iddinkhub-Subscription-Key": {secret}}, nil},
		{"missing", iddink, map[string]string{"autorisatiesleutel": secret}, nil,
			[]string{"profile iddink", "subscription_key", "Iddinkhub-Subscription-Key", "missing"}},
		{"empty", iddink, map[string]string{"subscription_key": ""}, nil, []string{"subscription_key", "missing"}},
		{"line break", iddink, map[string]string{"subscription_key": secret + "\r\nX-Evil: 1"}, nil,
			[]string{"subscription_key", "line break"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Keep": {"me"}}
			err := tt.p.ApplyHeaders(h, tt.values)
			if tt.want == nil {
				if !errors.Is(err, gateway.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the value", err)
				}
				if len(h) != 1 {
					t.Errorf("header changed on error: %v", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != len(tt.want) {
				t.Errorf("header = %v, want %v", h, tt.want)
			}
			for k, v := range tt.want {
				if !slices.Equal(h[k], v) {
					t.Errorf("header %s = %q, want %q", k, h[k], v)
				}
			}
			if v := h.Get("IddinkHub-Subscription-Key"); v != tt.values["subscription_key"] && tt.p.Name == "iddink" {
				t.Errorf("Get in the vendor's spelling = %q", v)
			}
		})
	}
}

// TestProfilesOnTheWire: a client configured from each profile sends the
// vendor's headers and SOAPAction form over real HTTP.
func TestProfilesOnTheWire(t *testing.T) {
	reqs := make(chan http.Header, 1)
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		reqs <- r.Header.Clone()
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write([]byte(answerFor(r.Header.Get("SOAPAction"))))
	})
	values := map[string]string{"subscription_key": "sub-42"}
	for _, p := range soap.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			conn := testConn(las.URL)
			conn.Xsdversie, conn.QuoteSOAPAction, conn.Header = p.Xsdversie, p.QuoteSOAPAction, http.Header{}
			if err := p.ApplyHeaders(conn.Header, values); err != nil {
				t.Fatal(err)
			}
			if _, err := soap.NewClient(las.Client(), conn).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{}); err != nil {
				t.Fatal(err)
			}
			got := <-reqs
			wantAction := "HaalLeerlinggegevens"
			if p.QuoteSOAPAction {
				wantAction = `"HaalLeerlinggegevens"`
			}
			if a := got.Get("SOAPAction"); a != wantAction {
				t.Errorf("SOAPAction = %q, want %q", a, wantAction)
			}
			for _, h := range p.Headers {
				if v := got.Values(h.Name); len(v) != 1 || v[0] != values[h.Field] {
					t.Errorf("%s = %q, want %q", h.Name, v, values[h.Field])
				}
			}
			if p.Name != "iddink" && got.Get("Iddinkhub-Subscription-Key") != "" {
				t.Errorf("profile %s sends a subscription key", p.Name)
			}
		})
	}
}
