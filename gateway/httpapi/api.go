package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func consentMap(c gateway.Consent) map[string]bool {
	m := map[string]bool{}
	for _, p := range gateway.Processings {
		m[string(p)] = c[p]
	}
	return m
}

// view builds the school's view; detailed adds the status fields.
func (s *Server) view(r *http.Request, sc gateway.School, detailed bool) (SchoolView, error) {
	ctx := r.Context()
	v := SchoolView{ID: sc.ID, Brin: sc.Brin, Dependancecode: sc.Dependancecode, Schoolkey: sc.Schoolkey, Profile: sc.Vendor,
		Endpoint: sc.Endpoint, Xsdversie: sc.Xsdversie}
	if sc.Results != nil {
		v.ResultsEndpoint = sc.Results.Endpoint
	}
	if !sc.LastPulledAt.IsZero() {
		t := sc.LastPulledAt
		v.LastPulledAt = &t
	}
	if !detailed {
		c, _, err := s.app.Consent(ctx, sc.ID)
		v.Consent = consentMap(c)
		return v, err
	}
	st, err := s.app.SchoolStatus(ctx, sc.ID)
	if err != nil {
		return v, err
	}
	v.Consent, v.Connection, v.LastSync = consentMap(st.Consent), st.Connection, st.LastSync
	if !st.NextRun.IsZero() {
		v.NextRun = &st.NextRun
	}
	if st.HeldSync != "" {
		v.HeldSync = &st.HeldSync
	}
	v.Outbox = map[string]int{}
	for _, b := range gateway.BatchStates {
		v.Outbox[string(b)] = st.Outbox[b]
	}
	return v, nil
}

// school loads the {school} of the path, within the caller's scope.
func (s *Server) school(w http.ResponseWriter, r *http.Request) (gateway.School, bool) {
	sc, err := s.app.School(r.Context(), gateway.SchoolID(r.PathValue("school")))
	if err != nil {
		s.fail(w, r, err)
		return sc, false
	}
	return sc, true
}

func (s *Server) listSchools(w http.ResponseWriter, r *http.Request) {
	schools, err := s.app.Schools(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]SchoolView, 0, len(schools))
	for _, sc := range schools {
		v, err := s.view(r, sc, false)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"schools": out})
}

func (s *Server) getSchool(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	v, err := s.view(r, sc, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	chk, err := s.app.TestConnection(r.Context(), sc.ID)
	var ra retryAfterer
	if errors.As(err, &ra) {
		// Within the cooldown: the last result, and when to ask again.
		setRetryAfter(w, err)
		writeProblem(w, r, Problem{Type: typeTooMany, Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: err.Error(), Connection: &chk})
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, chk)
}

func (s *Server) getConsent(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	c, hist, err := s.app.Consent(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := make([]ConsentChangeView, 0, len(hist))
	for _, ch := range hist {
		h = append(h, ConsentChangeView{Processing: ch.Processing, Old: ch.Old, New: ch.New, By: ch.By, At: ch.At})
	}
	writeJSON(w, http.StatusOK, map[string]any{"school": sc.ID, "consent": consentMap(c), "history": h})
}

func (s *Server) putConsent(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	p := gateway.Processing(r.PathValue("processing"))
	if !p.Valid() {
		invalid(w, r, "unknown processing", FieldProblem{Field: "processing", Reason: "must be one of las_exchange, dashboards, legal, research"})
		return
	}
	var body struct {
		Granted *bool `json:"granted"`
	}
	if !decodeBody(w, r, &body, maxJSONBody, "the body must be {\"granted\": true|false}") {
		return
	}
	if body.Granted == nil {
		invalid(w, r, "the body must be {\"granted\": true|false}", FieldProblem{Field: "/granted", Reason: "is required"})
		return
	}
	pr, _ := principalOf(r.Context())
	a, err := s.app.SetConsent(r.Context(), sc.ID, p, *body.Granted, pr.as())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"school": sc.ID, "processing": p, "granted": a.Change.New, "changed": a.Changed,
		"held_batches": a.Held, "released_batches": a.Released, "still_in_flight": a.StillInFlight})
}

func (s *Server) syncNow(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	pr, _ := principalOf(r.Context())
	if err := s.app.SyncNow(r.Context(), sc.ID, pr.actor()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/schools/"+string(sc.ID)+"/syncs")
	writeJSON(w, http.StatusAccepted, map[string]any{"school": sc.ID, "status": "started"})
}

// limitParam reads ?limit= (default def, 1..max).
func limitParam(w http.ResponseWriter, r *http.Request, def, maxN int) (int, bool) {
	q := r.URL.Query().Get("limit")
	if q == "" {
		return def, true
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > maxN {
		invalid(w, r, "bad query parameter", FieldProblem{Field: "limit", Reason: fmt.Sprintf("must be a whole number from 1 to %d", maxN)})
		return 0, false
	}
	return n, true
}

func (s *Server) listSyncs(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	n, ok := limitParam(w, r, 20, 1000)
	if !ok {
		return
	}
	runs, err := s.app.SyncRuns(r.Context(), sc.ID, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"school": sc.ID, "runs": runs})
}

func (s *Server) getHeldSync(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	h, err := s.app.HeldDiff(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) approveHeldSync(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	pr, _ := principalOf(r.Context())
	run, err := s.app.Approve(r.Context(), sc.ID, pr.actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// submitResults validates a results file as its body streams in (capped
// at maxResultsBody: 413) and queues it; a token has at most
// maxSubmitsPerToken submissions under way (one more: 429). A refused
// file is a 422 naming the first problems and counting the rest.
func (s *Server) submitResults(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	pr, _ := principalOf(r.Context())
	release, ok := s.submits.take(pr.token.ID)
	if !ok {
		s.fail(w, r, tooManySubmits{})
		return
	}
	defer release()
	body := uploadBody{http.MaxBytesReader(w, r.Body, s.maxResults)}
	sub, problems, err := s.app.SubmitResultsFrom(r.Context(), sc.ID, body, pr.actor(), nil)
	var tooLarge *http.MaxBytesError
	var cut bodyError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, r, Problem{Type: typeInvalid, Title: "Request too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("a results submission may hold at most %d bytes: split it", tooLarge.Limit)})
		return
	case errors.As(err, &cut):
		s.fail(w, r, fmt.Errorf("read body: %w", gateway.ErrInvalid))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if len(problems) > 0 {
		fps := make([]FieldProblem, len(problems))
		for i, p := range problems {
			fps[i] = FieldProblem{Field: p.Position, Reason: p.Reason}
		}
		invalid(w, r, problemsDetail(problems), fps...)
		return
	}
	writeJSON(w, http.StatusAccepted, sub)
}

func (s *Server) listResults(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	state := gateway.BatchState(r.URL.Query().Get("state"))
	if state != "" && !slices.Contains(gateway.BatchStates, state) {
		invalid(w, r, "bad query parameter", FieldProblem{Field: "state", Reason: "must be one of queued, sent, accepted, rejected, held, split"})
		return
	}
	rcs, err := s.app.Receipts(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts := map[string]int{}
	out := []gateway.Receipt{}
	for _, rc := range rcs {
		counts[string(rc.State)]++
		if state == "" || rc.State == state {
			out = append(out, rc)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"school": sc.ID, "counts": counts, "receipts": out})
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	n, ok := limitParam(w, r, 100, 10000)
	if !ok {
		return
	}
	entries, err := s.app.AuditEntries(r.Context(), gateway.AuditChainOf(sc.ID), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"school": sc.ID, "entries": entries})
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := s.app.VerifyAudit(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rep.Problems == nil {
		rep.Problems = []gateway.AuditProblem{}
	}
	writeJSON(w, http.StatusOK, rep)
}
