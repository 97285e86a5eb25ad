package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
)

// The names the studies and exports tests use: a study, and the school's
// research recipients of kind file and webhook (legal.bases of the fixture
// name its legal recipients: fileBasis, hookBasis).
const (
	studyName     = "s1"
	fileRecipient = "uni"
	hookRecipient = "lab"
)

// researchExportFiles are the files of a research export with results.
var researchExportFiles = []string{"datapackage.json", "manifest.json", "manifest.xml", "pupils.csv", "results.csv"}

// studyBody registers a study of the given name for recipient (k and
// fields absent: the defaults).
func studyBody(name, recipient string) []byte {
	return fmt.Appendf(nil, `{"name": %q, "purpose": "rekenvaardigheid", "recipient": %q, "until": "2027-07-31"}`, name, recipient)
}

// register registers a recipient of a school as tok (201).
func (f *fixture) register(t testing.TB, school gateway.SchoolID, tok token, body map[string]any) {
	t.Helper()
	f.post(t, "/api/v1/schools/"+string(school)+"/recipients", tok, mustJSON(t, body)).json(t, http.StatusCreated, nil)
}

// researchRecipients registers the school's research recipients: uni
// (files) and lab (a webhook).
func (f *fixture) researchRecipients(t testing.TB, school gateway.SchoolID, tok token) {
	t.Helper()
	f.register(t, school, tok, map[string]any{"name": fileRecipient, "processing": "research", "kind": "file",
		"basis": "onderzoeksovereenkomst 2026-7"})
	f.register(t, school, tok, map[string]any{"name": hookRecipient, "processing": "research", "kind": "webhook",
		"url": "https://lab.example/hooks", "basis": "onderzoeksovereenkomst 2026-8", "secret": webhookSecret(t)})
}

// legalRecipients registers the legal recipients the fixture's bases name.
func (f *fixture) legalRecipients(t testing.TB, school gateway.SchoolID, tok token) {
	t.Helper()
	f.register(t, school, tok, map[string]any{"name": fileBasis.Recipient, "processing": "legal", "kind": "file", "basis": fileBasis.Reference})
	f.register(t, school, tok, map[string]any{"name": hookBasis.Recipient, "processing": "legal", "kind": "webhook",
		"url": "https://inspectie.example/hooks", "basis": hookBasis.Reference, "secret": webhookSecret(t)})
}

// grant has school A's admin grant p (only a school's admin grants).
func (f *fixture) grant(t testing.TB, school gateway.SchoolID, p gateway.Processing) {
	t.Helper()
	f.put(t, "/api/v1/schools/"+string(school)+"/consent/"+string(p), f.tok.AdminA, []byte(`{"granted": true}`)).json(t, http.StatusOK, nil)
}

type studyList struct {
	School  gateway.SchoolID    `json:"school"`
	Studies []gateway.StudyView `json:"studies"`
}

// TestStudiesAPI: the school's admin registers studies for its research
// recipients (k 5 unless named), everyone in scope lists and reads them,
// bad input is refused naming why and stores nothing, a name is used once,
// viewers add none and another school's admin sees none.
func TestStudiesAPI(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID) + "/studies"
		var list studyList
		f.get(t, a, f.tok.ViewerA).json(t, http.StatusOK, &list)
		if list.School != f.A.ID || list.Studies == nil || len(list.Studies) != 0 {
			t.Fatalf("studies before any = %+v, want an empty list", list)
		}
		f.researchRecipients(t, f.A.ID, f.tok.AdminA)

		r := f.post(t, a, f.tok.AdminA, studyBody(studyName, fileRecipient))
		var v gateway.StudyView
		r.json(t, http.StatusCreated, &v)
		if loc := r.Header.Get("Location"); loc != a+"/"+studyName {
			t.Errorf("Location %q, want %s/%s", loc, a, studyName)
		}
		if v.Name != studyName || v.Recipient != fileRecipient || v.Until != "2027-07-31" || v.K != 5 || v.Fields == nil ||
			v.CreatedBy != "Anna Admin (token tok-admin-a)" || strings.Contains(string(r.Body), "sealed") {
			t.Errorf("registered %+v (%s)", v, r.Body)
		}
		hook := mustJSON(t, map[string]any{"name": "s2", "purpose": "leesvaardigheid", "recipient": hookRecipient, "until": "2027-01-31",
			"k": 3, "fields": []string{"age", "score"}})
		var v2 gateway.StudyView
		f.post(t, a, f.tok.Operator, hook).json(t, http.StatusCreated, &v2)
		if v2.K != 3 || !slices.Equal(v2.Fields, []string{"age", "score"}) {
			t.Errorf("registered %+v, want k 3 and its fields", v2)
		}

		f.get(t, a, f.tok.ViewerAll).json(t, http.StatusOK, &list)
		if len(list.Studies) != 2 || list.Studies[0].Name != studyName || list.Studies[1].Name != "s2" {
			t.Errorf("studies = %+v, want s1 and s2 in registration order", list.Studies)
		}
		var one gateway.StudyView
		f.get(t, a+"/"+studyName, f.tok.ViewerA).json(t, http.StatusOK, &one)
		if string(mustJSON(t, one)) != string(mustJSON(t, v)) {
			t.Errorf("GET %s = %+v, want %+v", studyName, one, v)
		}
		f.get(t, a+"/nope", f.tok.ViewerA).problem(t, http.StatusNotFound)

		badStudies(t, f, a)
		f.post(t, a, f.tok.AdminA, studyBody(studyName, hookRecipient)).problem(t, http.StatusConflict)
		f.post(t, a, f.tok.ViewerA, studyBody("s3", fileRecipient)).problem(t, http.StatusForbidden)
		b := "/api/v1/schools/" + string(f.B.ID) + "/studies"
		f.get(t, b, f.tok.AdminA).problem(t, http.StatusNotFound)
		f.post(t, b, f.tok.AdminA, studyBody("s3", fileRecipient)).problem(t, http.StatusNotFound)
		f.get(t, b+"/"+studyName, f.tok.ViewerA).problem(t, http.StatusNotFound)
		if n, nb := len(f.school(f.A.ID).Studies), len(f.school(f.B.ID).Studies); n != 2 || nb != 0 {
			t.Errorf("school A has %d studies, B %d; want 2 and 0", n, nb)
		}
	})
}

// badStudies: each bad study is a 422 naming why, and stores nothing.
func badStudies(t *testing.T, f *fixture, a string) {
	t.Helper()
	before := len(f.school(f.A.ID).Studies)
	good := func(change map[string]any) []byte {
		m := map[string]any{"name": "bad", "purpose": "p", "recipient": fileRecipient, "until": "2027-07-31"}
		for k, v := range change {
			m[k] = v
		}
		return mustJSON(t, m)
	}
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		detail string
		field  string
	}{
		{"k 1", good(map[string]any{"k": 1}), http.StatusUnprocessableEntity, "must be at least 2", "/k"},
		{"past until", good(map[string]any{"until": "2026-11-22"}), http.StatusUnprocessableEntity, "is past", ""},
		{"not a date", good(map[string]any{"until": "31-07-2027"}), http.StatusUnprocessableEntity, "not a date", "/until"},
		{"unknown field", good(map[string]any{"fields": []string{"gender", "last_name"}}), http.StatusUnprocessableEntity, `unknown field "last_name"`, "/fields/1"},
		{"no purpose", good(map[string]any{"purpose": " "}), http.StatusUnprocessableEntity, "empty", "/purpose"},
		{"unknown recipient", good(map[string]any{"recipient": "nobody"}), http.StatusUnprocessableEntity, `no research recipient "nobody"`, ""},
		{"unknown key", good(map[string]any{"students": 3}), http.StatusUnprocessableEntity, "is not a known field", "/students"},
		{"k as text", good(map[string]any{"k": "5"}), http.StatusUnprocessableEntity, "must be a JSON integer", "/k"},
		{"twice", []byte(`{"name": "bad", "name": "worse"}`), http.StatusUnprocessableEntity, "more than once", "/name"},
		{"too large", append([]byte(`{"purpose": "`), append(bytes.Repeat([]byte("a"), 64<<10), `"}`...)...), http.StatusRequestEntityTooLarge, "larger than", ""},
	} {
		p := f.post(t, a, f.tok.AdminA, c.body).problem(t, c.status)
		text := p.Detail
		for _, e := range p.Errors {
			text += " | " + e.Field + ": " + e.Reason
		}
		if !strings.Contains(text, c.detail) || (c.field != "" && !slices.Contains(fieldsOf(p), c.field)) {
			t.Errorf("%s: problem %+v, want %q (field %q)", c.name, p, c.detail, c.field)
		}
	}
	if after := len(f.school(f.A.ID).Studies); after != before {
		t.Errorf("bad studies were stored: %d studies before, %d after", before, after)
	}
}

// TestResearchExportAPI: a study's export is refused (403) until the
// school grants research, then answered with its files, which hold no
// name, LAS key, birth date, ECK iD or pupil id of the school; a study of
// a webhook recipient is queued (held without research); an ended study,
// a viewer and another school's admin are refused.
func TestResearchExportAPI(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		f.post(t, a+"/results", f.tok.AdminA, f.resultsFile(t, f.A.ID, 6)).json(t, http.StatusAccepted, nil)
		f.researchRecipients(t, f.A.ID, f.tok.AdminA)
		f.post(t, a+"/studies", f.tok.AdminA, mustJSON(t, map[string]any{"name": studyName, "purpose": "rekenvaardigheid",
			"recipient": fileRecipient, "until": "2027-07-31", "k": 2})).json(t, http.StatusCreated, nil)
		f.post(t, a+"/studies", f.tok.AdminA, studyBody("hooked", hookRecipient)).json(t, http.StatusCreated, nil)
		export := a + "/studies/" + studyName + "/exports"

		// Every processing but research granted: refused, nothing handed out.
		for _, p := range []gateway.Processing{gateway.ProcessingDashboards, gateway.ProcessingLegal} {
			f.grant(t, f.A.ID, p)
		}
		r := f.post(t, export, f.tok.AdminA, nil)
		if p := r.problem(t, http.StatusForbidden); p.Type != "urn:uwlr-gateway:problem:consent-required" ||
			!strings.Contains(p.Detail, "does not grant research") || strings.Contains(string(r.Body), "files") {
			t.Errorf("without research: %v", r)
		}
		var q httpapi.ExportQueued
		f.post(t, a+"/studies/hooked/exports", f.tok.AdminA, nil).json(t, http.StatusAccepted, &q)
		if q.School != f.A.ID || q.Export != "hooked" || q.Queued == "" || !q.Held {
			t.Errorf("a webhook study's export without research = %+v, want queued and held", q)
		}

		f.grant(t, f.A.ID, gateway.ProcessingResearch)
		var ex gateway.ResearchExportResult
		r = f.post(t, export, f.tok.AdminA, nil)
		r.json(t, http.StatusOK, &ex)
		if names := slices.Sorted(maps.Keys(ex.Files)); ex.School != f.A.ID || ex.Evidence == "" || !slices.Equal(names, researchExportFiles) ||
			ex.Manifest.Study != studyName || ex.Manifest.Pupils == 0 || ex.Manifest.Pupils+ex.Manifest.SuppressedPupils != simPupils {
			t.Fatalf("export = %+v with files %v, want %v and every pupil counted", ex.Manifest, names, researchExportFiles)
		}
		f.noPersonalData(t, r.Body, ex.Files)
		f.post(t, a+"/studies/hooked/exports", f.tok.Operator, nil).json(t, http.StatusAccepted, &q)
		if q.Queued == "" || q.Held {
			t.Errorf("a webhook study's export with research = %+v, want queued, not held", q)
		}
		f.queuedOnChain(t, f.A.ID, q.Queued)

		before, beforeB := f.state(t, f.A.ID), f.state(t, f.B.ID)
		f.post(t, export, f.tok.ViewerA, nil).problem(t, http.StatusForbidden)
		f.post(t, a+"/studies/hooked/exports", f.tok.ViewerAll, nil).problem(t, http.StatusForbidden)
		f.post(t, "/api/v1/schools/"+string(f.B.ID)+"/studies/"+studyName+"/exports", f.tok.AdminA, nil).problem(t, http.StatusNotFound)
		f.post(t, a+"/studies/nope/exports", f.tok.AdminA, nil).problem(t, http.StatusNotFound)
		if after, afterB := f.state(t, f.A.ID), f.state(t, f.B.ID); !sameState(before, after) || !sameState(beforeB, afterB) {
			t.Errorf("refused exports changed a school: A %+v -> %+v, B %+v -> %+v", before, after, beforeB, afterB)
		}

		// A study that ended exports no more.
		f.post(t, a+"/studies", f.tok.AdminA, mustJSON(t, map[string]any{"name": "short", "purpose": "p", "recipient": fileRecipient,
			"until": f.clock.Now().In(gateway.Amsterdam).Format(time.DateOnly)})).json(t, http.StatusCreated, nil)
		f.clock.Advance(48 * time.Hour)
		if p := f.post(t, a+"/studies/short/exports", f.tok.AdminA, nil).problem(t, http.StatusUnprocessableEntity); !strings.Contains(p.Detail, "ended") {
			t.Errorf("an ended study's export: %+v", p)
		}
	})
}

// queuedOnChain: the export batch is on the school's audit chain.
func (f *fixture) queuedOnChain(t *testing.T, school gateway.SchoolID, batch string) {
	t.Helper()
	for _, e := range f.audit(t, gateway.AuditChainOf(school)) {
		if e.Kind == gateway.AuditExport && e.Details["action"] == "queued" && e.Details["batch"] == batch {
			return
		}
	}
	t.Errorf("export batch %s is not on the audit chain of %s", batch, school)
}

// noPersonalData: the answer and the export's files hold no name, LAS key,
// birth date, ECK iD or pupil id of the school's pupils: no CSV cell is one,
// and no file holds one of the longer ones.
func (f *fixture) noPersonalData(t *testing.T, body []byte, files map[string][]byte) {
	t.Helper()
	cells := map[string]bool{}
	var long []string
	for _, p := range f.simA.Pupils() {
		for _, v := range []string{p.Achternaam, p.Roepnaam, p.Voornamen, p.Key, p.Geboortedatum, p.Eckid} {
			cells[v] = v != ""
		}
		long = append(long, p.Key, p.Geboortedatum, p.Eckid)
	}
	for _, p := range f.pupils(t, f.A.ID) {
		cells[string(p.ID)], cells[p.LASKey] = true, p.LASKey != ""
		long = append(long, string(p.ID), p.LASKey)
	}
	for name, b := range files {
		for _, v := range long {
			if len(v) >= 6 && (bytes.Contains(b, []byte(v)) || bytes.Contains(body, []byte(v))) {
				t.Fatalf("%s (or the answer) holds a LAS key, birth date, ECK iD or pupil id", name)
			}
		}
		if !strings.HasSuffix(name, ".csv") {
			continue
		}
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s: %d rows, %v", name, len(rows), err)
		}
		for _, row := range rows {
			for _, c := range row {
				if cells[c] {
					t.Fatalf("%s holds a name, LAS key, birth date, ECK iD or pupil id of school A", name)
				}
			}
		}
	}
}

// TestLegalExportAPI: a disclosure is refused (403) until the school
// grants legal, then answered with exactly the basis's fields as the CSV's
// header and its signed evidence; a basis whose recipient is a webhook is
// queued; an unknown basis is a 422; viewers and another school's admin
// are refused.
func TestLegalExportAPI(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		f.legalRecipients(t, f.A.ID, f.tok.AdminA)
		export := a + "/legal/" + fileBasis.Name + "/exports"
		for _, p := range []gateway.Processing{gateway.ProcessingDashboards, gateway.ProcessingResearch} {
			f.grant(t, f.A.ID, p)
		}
		r := f.post(t, export, f.tok.AdminA, nil)
		if p := r.problem(t, http.StatusForbidden); p.Type != "urn:uwlr-gateway:problem:consent-required" ||
			!strings.Contains(p.Detail, "does not grant legal") || strings.Contains(string(r.Body), "csv") {
			t.Errorf("without legal: %v", r)
		}
		var q httpapi.ExportQueued
		f.post(t, a+"/legal/"+hookBasis.Name+"/exports", f.tok.AdminA, nil).json(t, http.StatusAccepted, &q)
		if q.School != f.A.ID || q.Export != hookBasis.Name || q.Queued == "" || !q.Held {
			t.Errorf("a webhook basis without legal = %+v, want queued and held", q)
		}

		f.grant(t, f.A.ID, gateway.ProcessingLegal)
		var ex gateway.LegalExportResult
		r = f.post(t, export, f.tok.AdminA, nil)
		r.json(t, http.StatusOK, &ex)
		rows, err := csv.NewReader(bytes.NewReader(ex.CSV)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(ex.CSV)
		if ex.School != f.A.ID || ex.Basis != fileBasis.Name || !slices.Equal(rows[0], fileBasis.Fields) || len(rows)-1 != ex.Records ||
			ex.Records == 0 || ex.SHA256 != hex.EncodeToString(sum[:]) || ex.Evidence == "" || !bytes.Contains(ex.Signed, []byte(ex.SHA256)) {
			t.Fatalf("disclosure %s with header %v and %d rows: want exactly the basis's fields %v, its digest signed", r, rows[0], len(rows)-1, fileBasis.Fields)
		}
		for _, row := range rows[1:] {
			if len(row) != len(fileBasis.Fields) || row[0] != string(f.A.ID) || len(row[2]) != 4 {
				t.Fatalf("row %v", row)
			}
		}
		f.noPersonalData(t, r.Body, map[string][]byte{"disclosure.csv": ex.CSV})
		f.post(t, a+"/legal/"+hookBasis.Name+"/exports", f.tok.Operator, nil).json(t, http.StatusAccepted, &q)
		if q.Queued == "" || q.Held {
			t.Errorf("a webhook basis with legal = %+v, want queued, not held", q)
		}
		f.queuedOnChain(t, f.A.ID, q.Queued)

		before, beforeB := f.state(t, f.A.ID), f.state(t, f.B.ID)
		if p := f.post(t, a+"/legal/nope/exports", f.tok.AdminA, nil).problem(t, http.StatusUnprocessableEntity); !strings.Contains(p.Detail, `no legal basis "nope"`) {
			t.Errorf("an unknown basis: %+v", p)
		}
		f.post(t, export, f.tok.ViewerA, nil).problem(t, http.StatusForbidden)
		f.post(t, "/api/v1/schools/"+string(f.B.ID)+"/legal/"+fileBasis.Name+"/exports", f.tok.AdminA, nil).problem(t, http.StatusNotFound)
		if p := f.post(t, "/api/v1/schools/"+string(f.B.ID)+"/legal/"+fileBasis.Name+"/exports", f.tok.Operator, nil).problem(t, http.StatusUnprocessableEntity); !strings.Contains(p.Detail, "no legal recipient") {
			t.Errorf("a school without the basis's recipient: %+v", p)
		}
		if after, afterB := f.state(t, f.A.ID), f.state(t, f.B.ID); !sameState(before, after) || !sameState(beforeB, afterB) {
			t.Errorf("refused disclosures changed a school: A %+v -> %+v, B %+v -> %+v", before, after, beforeB, afterB)
		}
	})
}

// exportsMatchDocument drives the studies and exports routes to a success
// and their problems, validating each answer (dashboards is granted and
// results are queued by the caller).
func exportsMatchDocument(t *testing.T, f *fixture, v *validator) {
	t.Helper()
	a, b := "/api/v1/schools/"+string(f.A.ID), "/api/v1/schools/"+string(f.B.ID)
	admin, viewer := f.tok.AdminA, f.tok.ViewerA
	post := func(path string, tk token, body []byte) response { return v.check(t, f.post(t, path, tk, body)) }
	get := func(path string, tk token) response { return v.check(t, f.get(t, path, tk)) }
	f.researchRecipients(t, f.A.ID, admin)
	f.legalRecipients(t, f.A.ID, admin)
	f.register(t, f.A.ID, admin, map[string]any{"name": "gone", "processing": "research", "kind": "file", "basis": "b"})

	get(a+"/studies", viewer).json(t, http.StatusOK, nil)
	get(b+"/studies", viewer).problem(t, http.StatusNotFound)
	get(a+"/studies", token{}).problem(t, http.StatusUnauthorized)
	post(a+"/studies", admin, studyBody(studyName, fileRecipient)).json(t, http.StatusCreated, nil)
	post(a+"/studies", admin, studyBody("hooked", hookRecipient)).json(t, http.StatusCreated, nil)
	post(a+"/studies", admin, studyBody("orphan", "gone")).json(t, http.StatusCreated, nil)
	post(a+"/studies", admin, studyBody(studyName, fileRecipient)).problem(t, http.StatusConflict)
	post(a+"/studies", admin, []byte(`{"name": "x", "k": 1}`)).problem(t, http.StatusUnprocessableEntity)
	post(a+"/studies", admin, make([]byte, 64<<10+1)).problem(t, http.StatusRequestEntityTooLarge)
	post(a+"/studies", viewer, studyBody("x", fileRecipient)).problem(t, http.StatusForbidden)
	post(b+"/studies", admin, studyBody("x", fileRecipient)).problem(t, http.StatusNotFound)
	get(a+"/studies", viewer).json(t, http.StatusOK, nil)
	get(a+"/studies/"+studyName, viewer).json(t, http.StatusOK, nil)
	get(a+"/studies/nope", viewer).problem(t, http.StatusNotFound)
	if r := v.check(t, f.do(t, req{Method: http.MethodDelete, Path: a + "/recipients/gone", Secret: admin.Secret})); r.Status != http.StatusNoContent {
		t.Fatalf("%v; want 204", r)
	}

	research, legal := a+"/studies/"+studyName+"/exports", a+"/legal/"+fileBasis.Name+"/exports"
	post(research, admin, nil).problem(t, http.StatusForbidden)
	post(legal, admin, nil).problem(t, http.StatusForbidden)
	post(a+"/studies/hooked/exports", admin, nil).json(t, http.StatusAccepted, nil)
	post(a+"/legal/"+hookBasis.Name+"/exports", admin, nil).json(t, http.StatusAccepted, nil)
	f.grant(t, f.A.ID, gateway.ProcessingResearch)
	f.grant(t, f.A.ID, gateway.ProcessingLegal)
	post(research, admin, nil).json(t, http.StatusOK, nil)
	post(legal, admin, nil).json(t, http.StatusOK, nil)
	post(a+"/studies/orphan/exports", admin, nil).problem(t, http.StatusUnprocessableEntity)
	post(a+"/studies/nope/exports", admin, nil).problem(t, http.StatusNotFound)
	post(a+"/legal/nope/exports", admin, nil).problem(t, http.StatusUnprocessableEntity)
	post(research, viewer, nil).problem(t, http.StatusForbidden)
	post(legal, viewer, nil).problem(t, http.StatusForbidden)
	post(b+"/studies/"+studyName+"/exports", admin, nil).problem(t, http.StatusNotFound)
	post(b+"/legal/"+fileBasis.Name+"/exports", admin, nil).problem(t, http.StatusNotFound)
	post(legal, token{}, nil).problem(t, http.StatusUnauthorized)
}
