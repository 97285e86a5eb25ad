package app_test

import (
	"bytes"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

// TestResearchExport: a study's export needs research granted (and only
// research), holds no name, LAS key, ECK iD or full birth date of the
// school, pseudonymises pupils per study, and keeps signed evidence.
func TestResearchExport(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		f.sync(f.app, f.A)
		if _, _, err := f.app.SubmitResults(ctx(t), f.A, f.resultsFor(f.A, "2026-11-02"), "admin", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.RegisterRecipient(ctx(t), f.A, app.RecipientInput{Name: "uni", Processing: gateway.ProcessingResearch,
			Kind: gateway.RecipientFile, Basis: "onderzoeksovereenkomst 2026-7"}, "admin"); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"s1", "s2"} {
			if _, err := f.app.AddStudy(ctx(t), f.A, app.StudyInput{Name: name, Purpose: "rekenvaardigheid", Recipient: "uni",
				Until: "2027-07-31", K: 2}, "admin"); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []gateway.Processing{gateway.ProcessingLASExchange, gateway.ProcessingDashboards, gateway.ProcessingLegal} {
			f.grant(f.A, p, true)
		}
		if _, err := f.app.ExportResearch(ctx(t), f.A, "s1", true, "admin"); !errors.Is(err, gateway.ErrConsentRequired) {
			t.Fatalf("without research (every other processing granted): %v, want ErrConsentRequired", err)
		}
		f.grant(f.A, gateway.ProcessingResearch, true)
		e1, err := f.app.ExportResearch(ctx(t), f.A, "s1", true, "admin")
		if err != nil {
			t.Fatal(err)
		}
		e2, err := f.app.ExportResearch(ctx(t), f.A, "s2", true, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if e1.Manifest.Pupils+e1.Manifest.SuppressedPupils == 0 {
			t.Fatalf("manifest = %+v, want the school's pupils", e1.Manifest)
		}
		noPersonalData(t, f, e1.Files)
		if p1, p2 := pseudonyms(t, e1.Files["pupils.csv"]), pseudonyms(t, e2.Files["pupils.csv"]); len(p1) == 0 || slices.ContainsFunc(p1, func(p string) bool { return slices.Contains(p2, p) }) {
			t.Fatalf("two studies share a pseudonym (or none was written): %v / %v", p1, p2)
		}
		key, err := f.app.EvidenceKey(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := evidence.VerifyExport([]*x509.Certificate{key.Certificate()}, e1.Files["manifest.xml"])
		if err != nil || ev.Processing != gateway.ProcessingResearch || ev.Files["pupils.csv"] != e1.Manifest.Files["pupils.csv"] {
			t.Fatalf("signed manifest = %+v, %v", ev, err)
		}
	})
}

// noPersonalData: none of the school's names, LAS keys, full birth dates
// or ECK iDs, nor our pupil ids, is in any file.
func noPersonalData(t *testing.T, f *fixture, files map[string][]byte) {
	t.Helper()
	var needles []string
	err := f.store.Pupils(ctx(t), f.A, func(p gateway.Pupil) error {
		needles = append(needles, p.LastName, p.FirstName, p.BirthDate, p.LASKey, string(p.ID))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range f.world.Schools[0].Pupils() {
		needles = append(needles, l.Eckid)
	}
	for name, b := range files {
		for _, n := range needles {
			if len(n) > 3 && bytes.Contains(b, []byte(n)) {
				t.Errorf("%s holds a name, LAS key, birth date, ECK iD or pupil id", name)
				return
			}
		}
	}
}

func pseudonyms(t *testing.T, b []byte) []string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("pupils.csv: %v", err)
	}
	col := slices.Index(rows[0], "pupil")
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[col])
	}
	return out
}

// TestLegalExport: a disclosure needs legal granted and holds exactly the
// basis's fields.
func TestLegalExport(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		basis := gateway.LegalBase{Name: "wet-x", Reference: "Besluit leermiddelen art. 3", Recipient: "inspectie",
			Fields: []string{"school", "jaargroep", "birth_year"}}
		a := f.appWith(func(o *app.Options) { o.LegalBases = []gateway.LegalBase{basis} })
		f.sync(a, f.A)
		if _, err := a.RegisterRecipient(ctx(t), f.A, app.RecipientInput{Name: "inspectie", Processing: gateway.ProcessingLegal,
			Kind: gateway.RecipientFile, Basis: basis.Reference}, "admin"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []gateway.Processing{gateway.ProcessingDashboards, gateway.ProcessingResearch} {
			f.grant(f.A, p, true)
		}
		if _, err := a.ExportLegal(ctx(t), f.A, "wet-x", true, "admin"); !errors.Is(err, gateway.ErrConsentRequired) {
			t.Fatalf("without legal: %v, want ErrConsentRequired", err)
		}
		f.grant(f.A, gateway.ProcessingLegal, true)
		if _, err := a.ExportLegal(ctx(t), f.A, "nope", true, "admin"); !errors.Is(err, gateway.ErrInvalid) {
			t.Fatalf("unknown basis: %v", err)
		}
		ex, err := a.ExportLegal(ctx(t), f.A, "wet-x", true, "admin")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(ex.CSV)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], basis.Fields) || len(rows)-1 != ex.Records || ex.Records == 0 {
			t.Fatalf("header %v, %d rows, records %d: want exactly the basis's fields", rows[0], len(rows)-1, ex.Records)
		}
		for _, r := range rows[1:] {
			if len(r) != 3 || r[0] != string(f.A) || len(r[2]) != 4 {
				t.Fatalf("row %v", r)
			}
		}
		noPersonalData(t, f, map[string][]byte{"disclosure.csv": ex.CSV})
		if !strings.Contains(string(ex.Signed), ex.SHA256) {
			t.Fatal("the signed evidence does not name the disclosure's digest")
		}
	})
}

// TestBadRecipientsAndStudies: bad input is a clear ErrInvalid and stores
// nothing.
func TestBadRecipientsAndStudies(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		h := newHook(t)
		bad := map[string]app.RecipientInput{
			"unknown processing": {Name: "x", Processing: "marketing", Kind: gateway.RecipientFile, Basis: "b"},
			"las_exchange":       {Name: "x", Processing: gateway.ProcessingLASExchange, Kind: gateway.RecipientUWLR, URL: "https://las.example", Key: "k", Basis: "b"},
			"http endpoint":      {Name: "x", Processing: gateway.ProcessingDashboards, Kind: gateway.RecipientWebhook, URL: "http://dash.example/h", Secret: h.secret, Basis: "b"},
			"missing secret":     {Name: "x", Processing: gateway.ProcessingDashboards, Kind: gateway.RecipientWebhook, URL: h.srv.URL, Basis: "b"},
			"bad secret":         {Name: "x", Processing: gateway.ProcessingDashboards, Kind: gateway.RecipientWebhook, URL: h.srv.URL, Secret: "hunter2", Basis: "b"},
			"no basis":           {Name: "x", Processing: gateway.ProcessingResearch, Kind: gateway.RecipientFile},
			"wrong kind":         {Name: "x", Processing: gateway.ProcessingResearch, Kind: gateway.RecipientFeed, Basis: "b"},
			"bad name":           {Name: "../x", Processing: gateway.ProcessingResearch, Kind: gateway.RecipientFile, Basis: "b"},
		}
		for name, in := range bad {
			if _, err := f.app.RegisterRecipient(ctx(t), f.A, in, "admin"); !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
		if len(f.school(f.A).Recipients) != 0 {
			t.Fatal("a refused recipient was stored")
		}
		if _, err := f.app.RegisterRecipient(ctx(t), f.A, app.RecipientInput{Name: "uni", Processing: gateway.ProcessingResearch,
			Kind: gateway.RecipientFile, Basis: "b"}, "admin"); err != nil {
			t.Fatal(err)
		}
		for name, in := range map[string]app.StudyInput{
			"past":          {Name: "s", Purpose: "p", Recipient: "uni", Until: "2020-01-01"},
			"k 1":           {Name: "s", Purpose: "p", Recipient: "uni", Until: "2027-01-01", K: 1},
			"unknown field": {Name: "s", Purpose: "p", Recipient: "uni", Until: "2027-01-01", Fields: []string{"last_name"}},
			"no recipient":  {Name: "s", Purpose: "p", Recipient: "nobody", Until: "2027-01-01"},
		} {
			if _, err := f.app.AddStudy(ctx(t), f.A, in, "admin"); !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("study %s: %v, want ErrInvalid", name, err)
			}
		}
		if len(f.school(f.A).Studies) != 0 {
			t.Fatal("a refused study was stored")
		}
	})
}

// TestResearchExportToWebhook: a study whose recipient is a webhook is
// queued in the outbox, held while research is not granted, and built and
// pushed (signed) once it is.
func TestResearchExportToWebhook(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		h := newHook(t)
		f.sync(f.app, f.A)
		if _, err := f.app.RegisterRecipient(ctx(t), f.A, app.RecipientInput{Name: "uni", Processing: gateway.ProcessingResearch,
			Kind: gateway.RecipientWebhook, URL: h.srv.URL, Secret: h.secret, Basis: "b"}, "admin"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.AddStudy(ctx(t), f.A, app.StudyInput{Name: "s", Purpose: "p", Recipient: "uni", Until: "2027-07-31", K: 2}, "admin"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.ExportResearch(ctx(t), f.A, "s", true, "admin"); !errors.Is(err, gateway.ErrInvalid) {
			t.Fatalf("a webhook study written to files: %v, want ErrInvalid", err)
		}
		ex, err := f.app.ExportResearch(ctx(t), f.A, "s", false, "admin")
		if err != nil || ex.Queued == "" || !ex.Held {
			t.Fatalf("queued = %+v, %v; want a held batch", ex, err)
		}
		f.grant(f.A, gateway.ProcessingDashboards, true)
		f.drain()
		if n := len(h.requests()); n != 0 {
			t.Fatalf("without research the webhook got %d requests", n)
		}
		f.grant(f.A, gateway.ProcessingResearch, true)
		f.drain()
		reqs := h.requests()
		if len(reqs) != 1 {
			t.Fatalf("granted: %d requests, want the one export", len(reqs))
		}
		key, _ := webhook.ParseSecret(h.secret)
		if err := webhook.Verify(key, reqs[0].header, reqs[0].body, time.Now(), 10*365*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		var msg struct {
			Type string
			Data struct {
				Files map[string][]byte
			}
		}
		if err := json.Unmarshal(reqs[0].body, &msg); err != nil || msg.Type != "research.export" || len(msg.Data.Files["pupils.csv"]) == 0 {
			t.Fatalf("message %s %v", msg.Type, err)
		}
		noPersonalData(t, f, msg.Data.Files)
		b, err := f.store.Batch(ctx(t), f.A, ex.Queued)
		if err != nil || b.State != gateway.BatchAccepted || b.Evidence == "" {
			t.Fatalf("export batch = %+v, %v", b, err)
		}
	})
}
