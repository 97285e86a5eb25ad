package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/report"
)

// BreachRequest is what a breach report is asked for.
type BreachRequest struct {
	// From and To bound the window of the breach, both included.
	From, To time.Time
	// School limits the report to one school; empty means every school.
	School gateway.SchoolID
	// Incident is the content of an incident file (JSON: the facts only a
	// person knows, see report.ParseIncident); nil when none was given, and
	// every such fact is then reported as not given.
	Incident []byte
	// Format names the form the caller will write (recorded).
	Format string
}

// BreachReport drafts a data-breach notification over a window (counts and
// ids, the incident's facts and the schools' contact persons) and records
// it in the gateway's audit chain before returning it, so a report that
// was handed out is always in the log (with whether an incident file was
// given and how many facts it left out, never the facts). ErrInvalid for a
// bad window; gateway.InvalidFields naming each bad key or value of the
// incident file (or a discovery outside the window and the time of the
// report); ErrNotFound for an unknown school. It is the processor's act: it
// needs the gateway-wide scope.
func (a *App) BreachReport(ctx context.Context, q BreachRequest, by string) (report.BreachReport, error) {
	if err := needAll(ctx, "breach report"); err != nil {
		return report.BreachReport{}, err
	}
	o := report.BreachOptions{From: q.From, To: q.To, School: q.School, Now: a.now()}
	if q.Incident != nil {
		in, err := report.ParseIncident(q.Incident)
		if err != nil {
			return report.BreachReport{}, fmt.Errorf("incident file: %w", err)
		}
		o.Incident = &in
	}
	if q.School != "" {
		if _, err := a.school(ctx, q.School); err != nil {
			return report.BreachReport{}, err
		}
	}
	r, err := report.Breach(ctx, a.st, o)
	if err != nil {
		return r, err
	}
	incident := "none"
	if o.Incident != nil {
		incident = "given"
	}
	_, err = a.log.Gateway(ctx, gateway.AuditBreachReport, or(by, "cli"), map[string]string{
		"from": r.Window.From.Format(time.RFC3339), "to": r.Window.To.Format(time.RFC3339),
		"school": r.Scope, "format": q.Format, "schools": fmt.Sprint(len(r.Schools)),
		"incident": incident, "facts_not_given": strings.Join(r.Incident.NotGiven, ",")})
	if err != nil {
		return r, fmt.Errorf("record the report in the audit log: %w", err)
	}
	return r, nil
}
