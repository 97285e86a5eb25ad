package httpapi

import (
	"errors"
	"net/http"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The school's contact person: GET and PUT /api/v1/schools/{school}/contact,
// and the form on the school's page.

func contactView(id gateway.SchoolID, c gateway.SchoolContact) ContactView {
	return ContactView{School: id, Name: c.Name, Email: c.Email, Phone: c.Phone, UpdatedAt: c.UpdatedAt, UpdatedBy: c.UpdatedBy}
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	c, err := s.app.SchoolContact(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, contactView(sc.ID, c))
}

// contactBody is the body of PUT .../contact.
type contactBody struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

const contactShape = `the body must be {"name": "…", "email": "…", "phone": "…"} (phone optional)`

func (s *Server) putContact(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.school(w, r)
	if !ok {
		return
	}
	var body contactBody
	if !decodeBody(w, r, &body, maxJSONBody, contactShape) {
		return
	}
	pr, _ := principalOf(r.Context())
	c, err := s.app.SetSchoolContact(r.Context(), sc.ID, gateway.SchoolContact{Name: body.Name, Email: body.Email, Phone: body.Phone}, pr.actor())
	var bad gateway.InvalidFields
	if errors.As(err, &bad) {
		fps := make([]FieldProblem, len(bad))
		for i, p := range bad {
			fps[i] = FieldProblem{Field: jsonPointer(p.Position), Reason: p.Reason}
		}
		invalid(w, r, "the contact person is not valid; nothing was stored", fps...)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, contactView(sc.ID, c))
}

// contactAction is the page's form: the same use case as PUT.
func (s *Server) contactAction(r *http.Request, sc gateway.School, p principal) (notice, error) {
	c := gateway.SchoolContact{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone")}
	if _, err := s.app.SetSchoolContact(r.Context(), sc.ID, c, p.actor()); err != nil {
		return notice{}, err
	}
	return notice{key: noticeContact}, nil
}
