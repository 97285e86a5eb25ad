package app

import (
	"context"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
)

// Both stores can be compacted after a purge (Redis: a no-op).
var (
	_ retention.Compacter = (*boltstore.Store)(nil)
	_ retention.Compacter = (*redisstore.Store)(nil)
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

// RunRetention applies the processing agreement's retention rules in every
// school (see gateway/retention and the README): pupils who left two years
// ago with their results, evidence and logins; trial results two years
// after the test; login records and the personal part of audit entries
// two years after the event; held batches two years after they were held;
// free texts (warnings, fault texts) one year after they were written; and
// the pupils of a school whose data is no longer refreshed
// (Options.RetentionStaleAfter) are marked left. After a purge that
// deleted something the store compacts its files, so nothing deleted stays
// readable in them. Each school that purged or marked something gets a
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
	ro := retention.Options{Now: at, DryRun: o.DryRun, Actor: or(o.By, "cli"), Audit: a.log, StaleAfter: a.o.RetentionStaleAfter}
	if c, ok := a.raw.(retention.Compacter); ok {
		ro.Compact = c
	}
	return retention.Run(ctx, a.st, ro)
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
			"evidence", rc.Evidence, "logins", rc.Logins, "audit_personal", rc.AuditPersonal, "texts", rc.Texts.Total(),
			"held_batches", rc.HeldBatches, "stale_schools", rc.StaleSchools, "marked_left", rc.MarkedLeft, "compacted", rc.Compacted)
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
