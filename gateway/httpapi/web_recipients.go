package httpapi

import (
	"net/http"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The school page's consent switches with what depends on each: the
// agreement's description, the recipients registered under it (read-only,
// with a Remove button for the roles that write), what was sent to each
// last, and what stops while the switch is off.

// processingRow is one consent switch of the page.
type processingRow struct {
	Name        gateway.Processing
	Title, Text string
	On          bool
	// Stops says what stops while the processing is off.
	Stops string
	// LAS is the school's LAS endpoint: las_exchange's own recipient.
	LAS        string
	Recipients []gateway.RecipientView
}

// processingRows builds the switches of school sc (its view v).
func (s *Server) processingRows(r *http.Request, sc gateway.School, v SchoolView) ([]processingRow, error) {
	lang := langOf(r)
	rs, err := s.app.Recipients(r.Context(), sc.ID)
	if err != nil {
		return nil, err
	}
	var rows []processingRow
	for _, p := range gateway.Processings {
		tx := processingText[lang][p]
		row := processingRow{Name: p, Title: tx[0], Text: tx[1], On: v.Consent[string(p)], Stops: processingStops[lang][p]}
		if p == gateway.ProcessingLASExchange {
			row.LAS = sc.Endpoint
		}
		for _, rc := range rs {
			if rc.Processing == p {
				row.Recipients = append(row.Recipients, rc)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// removeRecipientAction is the page's Remove button: the same use case as
// DELETE .../recipients/{name}.
func (s *Server) removeRecipientAction(r *http.Request, sc gateway.School, p principal) (notice, error) {
	if err := s.app.RemoveRecipient(r.Context(), sc.ID, r.PathValue("name"), p.actor()); err != nil {
		return notice{}, err
	}
	return notice{key: noticeRemoved}, nil
}
