package pull_test

import (
	"context"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// midway is a LAS connection that runs fn once while the pupils stream in,
// after the given number of them: another writer acting during a sync.
type midway struct {
	las   *soap.Client
	after int
	fn    func(ctx context.Context) error
	ran   bool
}

func (m *midway) HaalLeerlinggegevens(ctx context.Context, r soap.Request, h soap.Handler) (*soap.Summary, error) {
	n, next := 0, h.Leerling
	h.Leerling = func(l *uwlr.Leerling) error {
		if n++; n == m.after {
			m.ran = true
			if err := m.fn(ctx); err != nil {
				return err
			}
		}
		return next(l)
	}
	return m.las.HaalLeerlinggegevens(ctx, r, h)
}

// A sync records its pull time on the school as it is when the sync ends,
// not on the record it read at the start: a results receiver set or a key
// rewrapped during the sync stays.
func TestSyncKeepsSchoolChangesMadeDuringIt(t *testing.T) {
	f := newFixture(t, 40)
	f.grant()
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		change func(ctx context.Context) error // what the other writer does
		check  func(s gateway.School) bool
		want   gateway.SyncStatus
	}{
		{name: "school receiver set (PutSchool of a fresh read)", want: gateway.SyncApplied,
			change: func(ctx context.Context) error {
				s, err := f.store.School(ctx, f.school.ID)
				if err != nil {
					return err
				}
				s.Results = &gateway.ResultsReceiver{Endpoint: "https://results.example/uwlr", Klantcode: "R"}
				return f.store.PutSchool(ctx, s)
			},
			check: func(s gateway.School) bool {
				return s.Results != nil && s.Results.Endpoint == "https://results.example/uwlr"
			}},
		{name: "keys rewrap (UpdateSchool)", want: gateway.SyncUnchanged,
			change: func(ctx context.Context) error {
				_, err := f.store.UpdateSchool(ctx, f.school.ID, func(s *gateway.School) error {
					s.SealedKey = []byte("rewrapped")
					return nil
				})
				return err
			},
			check: func(s gateway.School) bool {
				return string(s.SealedKey) == "rewrapped" && s.Results != nil // and the receiver of the first run
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start, err := f.store.School(ctx, f.school.ID)
			if err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Minute)
			las := &midway{las: f.client, after: 20, fn: tt.change}
			res, err := f.syncer.Sync(ctx, start, las, pull.Options{Schooljaar: schooljaar})
			if err != nil || res.Run.Status != tt.want || !las.ran {
				t.Fatalf("Sync = %s, %v (other writer ran: %v); want %s", res.Run.Status, err, las.ran, tt.want)
			}
			got, err := f.store.School(ctx, f.school.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Errorf("the other writer's change was undone by the sync: receiver %+v, sealed key of %d bytes", got.Results, len(got.SealedKey))
			}
			if !got.LastPulledAt.Equal(f.now) {
				t.Errorf("LastPulledAt = %v, want the start of the sync %v", got.LastPulledAt, f.now)
			}
		})
	}
}
