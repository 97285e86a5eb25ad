package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The results feed: GET /api/v1/schools/{school}/feeds/results, the one
// route a dashboard token may use. It reads the feed of the token's own
// recipient; an operator or the school's admin may read any feed
// recipient's (?recipient=NAME); a viewer may not (a page carries pupils'
// results out of the gateway and is audited as an export).

// feedMaxLimit is the largest page (the application layer caps it too).
const feedMaxLimit = 5000

// feedRecipient is the recipient whose feed the caller reads; false when
// the caller was refused (the answer is written).
func feedRecipient(w http.ResponseWriter, r *http.Request) (string, bool) {
	p, _ := principalOf(r.Context())
	asked := r.URL.Query().Get("recipient")
	forbid := func(detail string) (string, bool) {
		writeProblem(w, r, Problem{Type: typeForbid, Title: "Forbidden", Status: http.StatusForbidden, Detail: detail})
		return "", false
	}
	switch p.token.Role {
	case gateway.RoleDashboard:
		switch {
		case p.token.Recipient == "":
			return forbid("this dashboard token names no recipient")
		case asked != "" && asked != p.token.Recipient:
			return forbid("a dashboard token reads the feed of its own recipient only")
		}
		return p.token.Recipient, true
	case gateway.RoleOperator, gateway.RoleSchoolAdmin:
		if asked == "" {
			invalid(w, r, "bad query parameter", FieldProblem{Field: "recipient", Reason: "is required: the name of a feed recipient of the school"})
			return "", false
		}
		return asked, true
	}
	return forbid("a viewer token may not read a results feed: it carries pupils' results out of the gateway")
}

func (s *Server) resultsFeed(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	name, ok := feedRecipient(w, r)
	if !ok {
		return
	}
	limit, ok := limitParam(w, r, 0, feedMaxLimit) // 0: the application layer's default
	if !ok {
		return
	}
	page, err := s.app.Feed(r.Context(), sc.ID, name, r.URL.Query().Get("cursor"), limit)
	if errors.Is(err, gateway.ErrConsentRequired) {
		s.notGranted(w, r, err, sc.ID, gateway.ProcessingDashboards, "its results feed is closed until the school turns dashboards on")
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	if page.More {
		q := r.URL.Query()
		q.Set("cursor", page.Next)
		w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, page)
}

// notGranted answers an ErrConsentRequired with 403, not the table's 409:
// the request is refused by the school's own choice, which only the
// school's admin can change (a dashboard not at all), and asking again
// will not help. closed says what stays shut until the school grants p.
func (s *Server) notGranted(w http.ResponseWriter, r *http.Request, err error, id gateway.SchoolID, p gateway.Processing, closed string) {
	s.log(r).Info("request refused", "status", http.StatusForbidden, "error", err)
	writeProblem(w, r, Problem{Type: typeConsent, Title: "Consent required", Status: http.StatusForbidden,
		Detail: fmt.Sprintf("school %s does not grant %s: %s", id, p, closed)})
}
