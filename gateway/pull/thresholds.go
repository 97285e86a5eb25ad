package pull

import (
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Thresholds hold a sync whose share of left or changed pupils is too large.
type Thresholds struct {
	Left    float64 // share of current pupils marked left
	Changed float64 // share of current pupils changed
	// Rollover thresholds apply from 1 August to 1 October, when whole
	// year groups move on and leave.
	RolloverLeft    float64
	RolloverChanged float64
}

// DefaultThresholds: 10% left, 50% changed; relaxed to 40% / 95% during the rollover.
var DefaultThresholds = Thresholds{Left: 0.10, Changed: 0.50, RolloverLeft: 0.40, RolloverChanged: 0.95}

// check returns why a run with these counts must be held; none for a first
// sync, which has nothing to lose.
func (t Thresholds) check(now time.Time, active, left, changed int) []string {
	if active == 0 {
		return nil
	}
	maxLeft, maxChanged := t.Left, t.Changed
	if inRollover(now) {
		maxLeft, maxChanged = t.RolloverLeft, t.RolloverChanged
	}
	var reasons []string
	if share := float64(left) / float64(active); share > maxLeft {
		reasons = append(reasons, fmt.Sprintf("%d of %d pupils (%.0f%%) would be marked left; the limit is %.0f%%", left, active, share*100, maxLeft*100))
	}
	if share := float64(changed) / float64(active); share > maxChanged {
		reasons = append(reasons, fmt.Sprintf("%d of %d pupils (%.0f%%) would change; the limit is %.0f%%", changed, active, share*100, maxChanged*100))
	}
	return reasons
}

// inRollover reports whether now is between 1 August and 1 October (Amsterdam).
func inRollover(now time.Time) bool {
	t := now.In(gateway.Amsterdam)
	return t.Month() == time.August || t.Month() == time.September
}
