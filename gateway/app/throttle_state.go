package app

// edgeState is what an App keeps in memory for its edges: the login
// throttle, the open windows of failed logins and the connection tests
// under way (per process; see throttle.go).
type edgeState struct {
	throttle *loginThrottle
	fails    *failedLogins
	conns    connFlights
}

// edge returns the App's edge state.
func (a *App) edge() *edgeState { return a.edges }
