package app

import (
	"context"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/report"
)

// BreachReport drafts a data-breach notification over a window (counts and
// ids only) and records it in the gateway's audit chain before returning
// it, so a report that was handed out is always in the log. format names
// the form the caller will write (recorded). ErrInvalid for a bad window;
// ErrNotFound for an unknown school. It is the processor's act: it needs
// the gateway-wide scope.
func (a *App) BreachReport(ctx context.Context, from, to time.Time, school gateway.SchoolID, format, by string) (report.BreachReport, error) {
	if err := needAll(ctx, "breach report"); err != nil {
		return report.BreachReport{}, err
	}
	if school != "" {
		if _, err := a.school(ctx, school); err != nil {
			return report.BreachReport{}, err
		}
	}
	r, err := report.Breach(ctx, a.st, report.BreachOptions{From: from, To: to, School: school, Now: a.now()})
	if err != nil {
		return r, err
	}
	_, err = a.log.Gateway(ctx, gateway.AuditBreachReport, or(by, "cli"), map[string]string{
		"from": r.Window.From.Format(time.RFC3339), "to": r.Window.To.Format(time.RFC3339),
		"school": r.Scope, "format": format, "schools": fmt.Sprint(len(r.Schools))})
	if err != nil {
		return r, fmt.Errorf("record the report in the audit log: %w", err)
	}
	return r, nil
}
