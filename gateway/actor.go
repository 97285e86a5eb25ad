package gateway

import (
	"context"
	"slices"
)

// Actor is who does an act: a token (through the API or the web page), a
// person at the CLI (by name, with the school's written instruction where
// the act needs one), or a part of the gateway acting on its own ("sync",
// "serve", "delivery", "retention"). Every mutating act records its actor.
type Actor struct {
	// TokenID, Role and Schools are the token's, for an act through the API
	// or the web page (never its secret or hash).
	TokenID string
	Role    Role
	Schools []SchoolID
	// Name is the natural person: the token's name, or the CLI's --by.
	Name string
	// Via is "api", "web", "cli", or the part of the gateway that acts.
	Via string
	// Instruction is, at the CLI, the reference of the school's written
	// instruction the operator acts on (a consent grant needs one).
	Instruction string
}

// TokenActor is the actor of an act done with token t through via.
func TokenActor(t Token, via string) Actor {
	return Actor{TokenID: t.ID, Role: t.Role, Schools: slices.Clone(t.Schools), Name: t.Name, Via: via}
}

// String names the actor for audit entries and consent history: the
// person and the token id or channel, never a secret.
func (a Actor) String() string {
	switch {
	case a.TokenID != "" && a.Name != "":
		return a.Name + " (token " + a.TokenID + ")"
	case a.TokenID != "":
		return "token " + a.TokenID
	case a.Via == "cli" && a.Instruction != "":
		return a.Name + " (cli, instruction " + a.Instruction + ")"
	case a.Via == "cli":
		return a.Name + " (cli)"
	case a.Name != "":
		return a.Name
	}
	return a.Via
}

// SchoolAdminOf reports whether the actor is a school-admin token for school.
func (a Actor) SchoolAdminOf(school SchoolID) bool {
	return a.TokenID != "" && a.Role == RoleSchoolAdmin && slices.Contains(a.Schools, school)
}

type actorKey struct{}

// WithActor returns a context that carries who acts; the application layer
// records it with reads of personal data.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
