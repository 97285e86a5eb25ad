package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func testUpdateSchool(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	sc := mustSchool(t, s, id)
	ps := pupils(id, "A", 10, 1)
	commitSnapshot(t, s, id, "run1", ps, nil, nil, nil)
	calls := 0
	got, err := s.UpdateSchool(ctx, id, func(x *gateway.School) error {
		calls++
		checkOne(t, "school handed to fn", *x, sc)
		x.LastPulledAt = t0.Add(5)
		x.Results = &gateway.ResultsReceiver{Endpoint: "https://results.example"}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateSchool: %v", err)
	}
	if calls != 1 {
		t.Errorf("fn ran %d times without any other writer, want 1", calls)
	}
	want := sc
	want.LastPulledAt = t0.Add(5)
	want.Results = &gateway.ResultsReceiver{Endpoint: "https://results.example"}
	checkOne(t, "UpdateSchool result", got, want)
	stored, err := s.School(ctx, id)
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	checkOne(t, "updated School", stored, want)
	checkSnapshot(t, s, id, ps, nil, nil, nil)
}

func testUpdateSchoolNotFound(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "12AB00")
	called := false
	_, err := s.UpdateSchool(ctxFor(t), "99ZZ00", func(*gateway.School) error { called = true; return nil })
	checkNotFound(t, "UpdateSchool of an unknown school", err)
	if called {
		t.Error("fn ran for an unknown school")
	}
	if _, err := s.School(ctxFor(t), "99ZZ00"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("UpdateSchool created the unknown school: %v", err)
	}
}

func testUpdateSchoolFnError(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	sc := mustSchool(t, s, id)
	stop := errors.New("caller refuses")
	_, err := s.UpdateSchool(ctxFor(t), id, func(x *gateway.School) error {
		x.Endpoint = "https://changed.example"
		return stop
	})
	if err != stop {
		t.Errorf("UpdateSchool = %v, want fn's error as it is", err)
	}
	got, err := s.School(ctxFor(t), id)
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	checkOne(t, "School after a failed fn", got, sc)
}

func testUpdateSchoolIDChange(t *testing.T, s gateway.Store) {
	const id, other = "12AB00", "34CD00"
	sc := mustSchool(t, s, id)
	_, err := s.UpdateSchool(ctxFor(t), id, func(x *gateway.School) error {
		x.ID = other
		x.Klantnaam = "moved"
		return nil
	})
	if !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("UpdateSchool changing the id = %v, want ErrInvalid", err)
	}
	got, err := s.School(ctxFor(t), id)
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	checkOne(t, "School after a refused id change", got, sc)
	if _, err := s.School(ctxFor(t), other); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("a refused id change wrote school %s: %v", other, err)
	}
}

// testUpdateSchoolConcurrent: many updaters at once, each changing only its
// own part of the record (its own marker byte; two of them the endpoint and
// the pull time); none of the changes is lost.
func testUpdateSchoolConcurrent(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id, n = "12AB00", 50
	sc := mustSchool(t, s, id)
	sc.SealedKeyPassphrase = make([]byte, n)
	if err := s.PutSchool(ctx, sc); err != nil {
		t.Fatalf("PutSchool: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.UpdateSchool(ctx, id, func(x *gateway.School) error {
				if len(x.SealedKeyPassphrase) != n {
					return fmt.Errorf("updater %d got a marker field of %d bytes", i, len(x.SealedKeyPassphrase))
				}
				x.SealedKeyPassphrase[i] = byte(i + 1)
				switch i {
				case 0:
					x.Endpoint = "https://new.example"
				case 1:
					x.LastPulledAt = t1.Add(42)
				}
				return nil
			})
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateSchool: %v", err)
		}
	}
	got, err := s.School(ctx, id)
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	for i, b := range got.SealedKeyPassphrase {
		if b != byte(i+1) {
			t.Errorf("the change of updater %d was lost", i)
		}
	}
	if got.Endpoint != "https://new.example" || !got.LastPulledAt.Equal(t1.Add(42)) {
		t.Errorf("endpoint %q, last pulled %v: a change to another field was lost", got.Endpoint, got.LastPulledAt)
	}
	if got.Klantnaam != sc.Klantnaam || got.Vendor != sc.Vendor {
		t.Errorf("fields nobody changed changed: %+v", got)
	}
}
