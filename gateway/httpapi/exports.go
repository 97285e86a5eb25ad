package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The school's research studies and its exports: GET and POST
// /api/v1/schools/{school}/studies, GET .../studies/{study}, POST
// .../studies/{study}/exports (a study's pseudonymised research export) and
// POST .../legal/{basis}/exports (a disclosure under a configured legal
// basis). An export is written and answered (200, its files base64 in the
// JSON) when its recipient takes files, and queued for the outbox (202)
// when its recipient is a webhook. Without the processing granted an
// export is a 403 (notGranted) and nothing is handed out.

// maxStudyBody caps a study registration (a name, a purpose, a date and a
// handful of field names).
const maxStudyBody = 64 << 10

// studyBody is the body of POST .../studies.
type studyBody struct {
	Name      string   `json:"name"`
	Purpose   string   `json:"purpose"`
	Recipient string   `json:"recipient"`
	Until     string   `json:"until"`
	K         int      `json:"k"` // 0 (or absent): the application layer's default
	Fields    []string `json:"fields"`
}

func (b studyBody) input() gateway.StudyInput {
	return gateway.StudyInput{Name: b.Name, Purpose: b.Purpose, Recipient: b.Recipient, Until: b.Until, K: b.K, Fields: b.Fields}
}

const studyShape = `the body must be {"name": "…", "purpose": "…", "recipient": "…", "until": "YYYY-MM-DD", "k": 5, "fields": ["…"]} (k and fields optional)`

// studyView is a study as the API shows it: no fields asked is [], the
// default fields.
func studyView(v gateway.StudyView) gateway.StudyView {
	if v.Fields == nil {
		v.Fields = []string{}
	}
	return v
}

func (s *Server) listStudies(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	vs, err := s.app.Studies(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]gateway.StudyView, 0, len(vs))
	for _, v := range vs {
		out = append(out, studyView(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"school": sc.ID, "studies": out})
}

func (s *Server) getStudy(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	vs, err := s.app.Studies(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("study")
	for _, v := range vs {
		if v.Name == name {
			writeJSON(w, http.StatusOK, studyView(v))
			return
		}
	}
	s.fail(w, r, fmt.Errorf("school %s has no study %q (POST .../studies): %w", sc.ID, name, gateway.ErrNotFound))
}

func (s *Server) addStudy(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	var body studyBody
	if !decodeBody(w, r, &body, maxStudyBody, studyShape) {
		return
	}
	pr, _ := principalOf(r.Context())
	v, err := s.app.AddStudy(r.Context(), sc.ID, body.input(), pr.actor())
	var bad gateway.InvalidFields
	if errors.As(err, &bad) {
		fps := make([]FieldProblem, len(bad))
		for i, p := range bad {
			fps[i] = FieldProblem{Field: fieldPointer(p.Position), Reason: p.Reason}
		}
		invalid(w, r, "the study is not valid; nothing was stored", fps...)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", studyPath(sc.ID, v.Name))
	writeJSON(w, http.StatusCreated, studyView(v))
}

func (s *Server) researchExport(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	// The school names the study's recipient and its kind: a webhook's
	// export is queued, a file recipient's written. An unknown study (or
	// one whose recipient is gone) is the application layer's answer.
	name, toFiles := r.PathValue("study"), true
	if st, ok := sc.Study(name); ok {
		if rc, ok := sc.Recipient(st.Recipient); ok && rc.Kind == gateway.RecipientWebhook {
			toFiles = false
		}
	}
	pr, _ := principalOf(r.Context())
	ex, err := s.app.ExportResearch(r.Context(), sc.ID, name, toFiles, pr.actor())
	s.answerExport(w, r, sc.ID, gateway.ProcessingResearch, "no research export is made until the school turns research on",
		ExportQueued{School: sc.ID, Export: name, Queued: ex.Queued, Held: ex.Held}, ex, err)
}

func (s *Server) legalExport(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	basis := r.PathValue("basis")
	pr, _ := principalOf(r.Context())
	// The configured basis names the school's recipient, whose kind says
	// whether the disclosure is queued (a webhook) or handed back. An
	// unknown basis (or recipient) is the application layer's answer.
	toFile := true
	for _, b := range s.app.LegalBases() {
		if rc, ok := sc.Recipient(b.Recipient); ok && b.Name == basis && rc.Kind == gateway.RecipientWebhook {
			toFile = false
		}
	}
	ex, err := s.app.ExportLegal(r.Context(), sc.ID, basis, toFile, pr.actor())
	s.answerExport(w, r, sc.ID, gateway.ProcessingLegal, "no legal disclosure is made until the school turns legal on",
		ExportQueued{School: sc.ID, Export: basis, Queued: ex.Queued, Held: ex.Held}, ex, err)
}

// answerExport answers an export: 403 without its processing, 202 when it
// was queued for a webhook recipient, 200 with the export otherwise.
func (s *Server) answerExport(w http.ResponseWriter, r *http.Request, id gateway.SchoolID, p gateway.Processing, refusal string,
	queued ExportQueued, ex any, err error) {
	switch {
	case errors.Is(err, gateway.ErrConsentRequired):
		s.notGranted(w, r, err, id, p, refusal)
	case err != nil:
		s.fail(w, r, err)
	case queued.Queued != "":
		writeJSON(w, http.StatusAccepted, queued)
	default:
		writeJSON(w, http.StatusOK, ex)
	}
}

// indexPosition is a list position of a field ("fields[2]").
var indexPosition = regexp.MustCompile(`\[(\d+)\]`)

// fieldPointer turns a field's position ("until", "fields[2]") into a
// JSON pointer into the body ("/until", "/fields/2").
func fieldPointer(pos string) string {
	return jsonPointer(indexPosition.ReplaceAllString(pos, ".$1"))
}

func studyPath(id gateway.SchoolID, name string) string {
	return "/api/v1/schools/" + url.PathEscape(string(id)) + "/studies/" + url.PathEscape(name)
}
