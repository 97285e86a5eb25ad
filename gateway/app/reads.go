package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Reads of personal data are logged: who (the actor in ctx), what, which
// school and how many records. They are kept as login records, so they
// expire with the login activity.

// logRead records a read of n records of what at school. A read the
// gateway cannot record is refused: the data is not handed out.
func (a *App) logRead(ctx context.Context, school gateway.SchoolID, what string, n int) error {
	actor, ok := gateway.ActorFrom(ctx)
	if !ok {
		actor = gateway.Actor{Via: "cli", Name: "unknown"}
	}
	now := a.now().UTC()
	rec := gateway.Login{ID: fmt.Sprintf("read-%d-%s", now.UnixNano(), randomID(a.o.Random)), Account: actor.String(), School: school,
		At: now, OK: true, What: what, Records: n}
	if err := a.raw.AddLogin(context.WithoutCancel(ctx), rec); err != nil {
		return fmt.Errorf("record the read of %s of school %s: %w", what, school, err)
	}
	return nil
}

// randomID is 8 random bytes in hex (ids of records, never secrets).
func randomID(r io.Reader) string {
	var b [8]byte
	_, _ = io.ReadFull(r, b[:])
	return hex.EncodeToString(b[:])
}
