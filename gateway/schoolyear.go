package gateway

import (
	"fmt"
	"time"
)

// amsterdam is the school's clock. The school year switches on 1 August.
var amsterdam = mustLoadLocation("Europe/Amsterdam")

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
	t = t.In(amsterdam)
	y := t.Year()
	if t.Month() < time.August {
		y--
	}
	return fmt.Sprintf("%d-%d", y, y+1)
}
