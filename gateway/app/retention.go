package app

import (
	"context"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

// RetentionOptions tune RunRetention.
type RetentionOptions struct {
	// At applies the rules as at this moment (zero: the App's clock).
	At time.Time
	// DryRun reports what would be purged; it deletes nothing and writes
	// no audit entry.
	DryRun bool
	By     string
}

// RunRetention applies the processing agreement's retention periods in
// every school: pupils who left two years ago with their results, evidence
// and logins; trial results two years after the test; login records of
// accounts unused for two years. Each school that purged something gets a
// receipt in its audit chain, the run one in the gateway chain. Needs the
// gateway-wide scope. ErrInvalid for a moment the rules cannot apply at.
func (a *App) RunRetention(ctx context.Context, o RetentionOptions) (retention.Receipt, error) {
	if err := needAll(ctx, "retention"); err != nil {
		return retention.Receipt{}, err
	}
	at := o.At
	if at.IsZero() {
		at = a.now()
	}
	return retention.Run(ctx, a.st, retention.Options{Now: at, DryRun: o.DryRun, Actor: or(o.By, "cli"), Audit: a.log})
}

// nightlyRetention runs the retention once per night at RetentionAt, over
// all instances: the first to claim the night (an if-absent gateway secret
// named after the date) runs it. It returns when ctx ends.
func (a *App) nightlyRetention(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := a.now().In(gateway.Amsterdam)
		if !retentionTime(n, a.o.RetentionAt) {
			continue
		}
		marker := "retention/" + n.Format(time.DateOnly)
		me := fmt.Sprintf("%s@%d", a.o.Instance, n.UnixNano())
		got, err := a.st.PutGatewaySecret(ctx, marker, []byte(me), true)
		if err != nil || string(got) != me {
			continue // another instance (or an earlier tick) has this night
		}
		rc, err := a.RunRetention(ctx, RetentionOptions{By: "serve"})
		if err != nil {
			a.slog.Error("nightly retention", "error", err)
			continue
		}
		a.slog.Info("nightly retention", "pupils", rc.Pupils, "results", rc.Results, "trial_results", rc.TrialResults,
			"evidence", rc.Evidence, "logins", rc.Logins)
	}
}

// retentionTime: within two hours after at ("HH:MM"), and never in school
// hours (08:00-16:00) on a school day.
func retentionTime(n time.Time, at string) bool {
	start, err := time.ParseInLocation("2006-01-02 15:04", n.Format(time.DateOnly)+" "+at, n.Location())
	if err != nil || n.Before(start) || !n.Before(start.Add(2*time.Hour)) {
		return false
	}
	if wd := n.Weekday(); wd != time.Saturday && wd != time.Sunday && n.Hour() >= 8 && n.Hour() < 16 {
		return false
	}
	return true
}
