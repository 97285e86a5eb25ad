package schedule

import (
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// SetTicks makes Run wait on ticks instead of a Tick timer.
func SetTicks(r *Runner, ticks <-chan time.Time) { r.ticks = ticks }

// AfterPass makes Run call f after each of its passes.
func AfterPass(r *Runner, f func(started int, err error)) { r.afterPass = f }

// NextSchoolHours exposes the start of the next school hours after now.
func NextSchoolHours(now time.Time) time.Time { return nextSchoolHours(now) }

// AfterSync makes the runner call f when a sync has ended and given back
// its place under the vendor cap.
func AfterSync(r *Runner, f func(gateway.SchoolID)) { r.afterSync = f }
