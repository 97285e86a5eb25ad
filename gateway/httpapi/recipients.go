package httpapi

import (
	"net/http"
	"net/url"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The school's recipients: GET and POST /api/v1/schools/{school}/recipients,
// GET and DELETE .../recipients/{name}. Their credentials go in and never
// come out: a view says only whether they are set.

// maxRecipientBody caps a recipient registration (a name, a URL, a basis
// and at most two secrets).
const maxRecipientBody = 64 << 10

// recipientBody is the body of POST .../recipients.
type recipientBody struct {
	Name            string `json:"name"`
	Processing      string `json:"processing"`
	Kind            string `json:"kind"`
	URL             string `json:"url"`
	Country         string `json:"country"`
	Basis           string `json:"basis"`
	Secret          string `json:"secret"`
	Key             string `json:"key"`
	Klantcode       string `json:"klantcode"`
	Klantnaam       string `json:"klantnaam"`
	ScoreType       string `json:"score_type"`
	Xsdversie       string `json:"xsdversie"`
	QuoteSOAPAction bool   `json:"quote_soapaction"`
}

func (b recipientBody) input() gateway.RecipientInput {
	return gateway.RecipientInput{Name: b.Name, Processing: gateway.Processing(b.Processing), Kind: gateway.RecipientKind(b.Kind),
		URL: b.URL, Country: b.Country, Basis: b.Basis, Secret: b.Secret, Key: b.Key, Klantcode: b.Klantcode, Klantnaam: b.Klantnaam,
		ScoreType: b.ScoreType, Xsdversie: b.Xsdversie, QuoteSOAP: b.QuoteSOAPAction}
}

const recipientShape = `the body must be {"name": "…", "processing": "dashboards|legal|research", "kind": "webhook|feed|uwlr|file", "basis": "…", …}`

func (s *Server) listRecipients(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	rs, err := s.app.Recipients(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []gateway.RecipientView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"school": sc.ID, "recipients": rs})
}

func (s *Server) getRecipient(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	v, err := s.app.RecipientInfo(r.Context(), sc.ID, r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) addRecipient(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	var body recipientBody
	if !decodeBody(w, r, &body, maxRecipientBody, recipientShape) {
		return
	}
	pr, _ := principalOf(r.Context())
	v, err := s.app.RegisterRecipient(r.Context(), sc.ID, body.input(), pr.actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", recipientPath(sc.ID, v.Name))
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) removeRecipient(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	pr, _ := principalOf(r.Context())
	if err := s.app.RemoveRecipient(r.Context(), sc.ID, r.PathValue("name"), pr.actor()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func recipientPath(id gateway.SchoolID, name string) string {
	return "/api/v1/schools/" + url.PathEscape(string(id)) + "/recipients/" + url.PathEscape(name)
}
