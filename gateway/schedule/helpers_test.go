package schedule_test

import (
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
)

var ams = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is an Amsterdam wall-clock time "2006-01-02 15:04[:05]" (for times
// that occur twice on the autumn change, use utc).
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", secs(s), ams)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

func secs(s string) string {
	if len(s) == len("2006-01-02 15:04") {
		return s + ":00"
	}
	return s
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

// exact is a config whose schools all start at the window's opening
// (a 1-second spread), so that table tests can name exact times.
func exact() schedule.Config {
	c := schedule.DefaultConfig()
	c.Jitter = time.Second
	return c
}

func school(id string) gateway.School {
	return gateway.School{ID: gateway.SchoolID(id), Vendor: "magister"}
}
