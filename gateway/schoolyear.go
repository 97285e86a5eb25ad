package gateway

import (
	"fmt"
	"time"
)

// Amsterdam is the school's clock (Europe/Amsterdam, embedded: see
// tzdata.go): school hours, the school year (switching on 1 August),
// retention dates and the nightly window are all read on it. It is the one
// place the zone is loaded.
var Amsterdam = mustLoadLocation("Europe/Amsterdam")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Builds embed time/tzdata (see tzdata.go), so this cannot happen.
		panic(fmt.Sprintf("load %s: %v", name, err))
	}
	return loc
}

// SchoolYearAt returns the UWLR schooljaar ("2025-2026") that t falls in.
// The year switches at 1 August 00:00 Europe/Amsterdam.
func SchoolYearAt(t time.Time) string {
	t = t.In(Amsterdam)
	y := t.Year()
	if t.Month() < time.August {
		y--
	}
	return fmt.Sprintf("%d-%d", y, y+1)
}
