package vault_test

import (
	"bytes"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// eckID has the shape and size (154 bytes) of a real ECK iD.
var eckID = []byte("https://ketenid.nl/201703/" + strings.Repeat("0123456789abcdef", 8))

// t0 is a fixed clock: the last minute of a school year.
var t0 = time.Date(2026, 7, 31, 23, 59, 30, 0, time.UTC)

// detRand is a deterministic random source for key generation in tests.
func detRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func newRing(t testing.TB, seed byte) *vault.Keyring {
	t.Helper()
	kr, err := vault.Generate(detRand(seed), t0)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return kr
}

func rotate(t testing.TB, kr *vault.Keyring, seed byte) *vault.Keyring {
	t.Helper()
	next, err := kr.Rotate(detRand(seed), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return next
}

func mustSeal(t testing.TB, s *vault.Sealer, p vault.Place, v []byte) []byte {
	t.Helper()
	out, err := s.Seal(p, v)
	if err != nil {
		t.Fatalf("Seal(%s): %v", p, err)
	}
	return out
}

var (
	pupilA = vault.PupilEckID("12AB00", "pupil-a")
	pupilB = vault.PupilEckID("12AB00", "pupil-b")
)

// exerciseVault is the contract every keyring must meet, however it was
// made (generated, loaded from a file or the environment, rotated): values
// round-trip, are bound to their place, carry a random nonce, and any change
// to any region of the sealed bytes makes them fail to open.
func exerciseVault(t *testing.T, kr *vault.Keyring) {
	s, o := kr.Sealer(), kr.Opener()

	t.Run("RoundTrip", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			place vault.Place
			value []byte
		}{
			{"pupil eck id", pupilA, eckID},
			{"teacher eck id", vault.TeacherEckID("12AB00", "T-17"), eckID},
			{"autorisatiesleutel", vault.Place{Kind: "school", School: "12AB00", Field: "autorisatiesleutel"}, []byte("s3cr3t-autorisatiesleutel")},
			{"empty value", pupilA, []byte{}},
			{"one byte", pupilA, []byte{0}},
			{"large", pupilA, bytes.Repeat([]byte("x"), 64<<10)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sealed := mustSeal(t, s, tc.place, tc.value)
				if got, want := len(sealed), len(tc.value)+vault.Overhead; got != want {
					t.Errorf("len(sealed) = %d, want %d", got, want)
				}
				if got := binary.BigEndian.Uint32(sealed); got != kr.ActiveTerm() {
					t.Errorf("term in header = %d, want active %d", got, kr.ActiveTerm())
				}
				if sealed[4] != vault.FormatVersion {
					t.Errorf("version byte = %d, want %d", sealed[4], vault.FormatVersion)
				}
				if len(tc.value) > 8 && bytes.Contains(sealed, tc.value[:8]) {
					t.Error("sealed bytes contain the plaintext")
				}
				got, err := o.Open(tc.place, sealed)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if !bytes.Equal(got, tc.value) {
					t.Errorf("Open = %q, want %q", got, tc.value)
				}
			})
		}
	})

	t.Run("NonceIsRandom", func(t *testing.T) {
		a, b := mustSeal(t, s, pupilA, eckID), mustSeal(t, s, pupilA, eckID)
		if bytes.Equal(a, b) {
			t.Fatal("two seals of the same value are equal")
		}
		if bytes.Equal(a[5:17], b[5:17]) {
			t.Fatal("two seals share a nonce")
		}
	})

	t.Run("WrongPlace", func(t *testing.T) {
		sealed := mustSeal(t, s, pupilA, eckID)
		for _, tc := range []struct {
			name  string
			place vault.Place
		}{
			{"other pupil", pupilB},
			{"other school", vault.PupilEckID("99ZZ00", "pupil-a")},
			{"other field", vault.Place{Kind: "pupil", School: "12AB00", Record: "pupil-a", Field: "eckid2"}},
			{"other kind", vault.TeacherEckID("12AB00", "pupil-a")},
			// Without length prefixes these would give the same bytes.
			{"record and field shifted", vault.Place{Kind: "pupil", School: "12AB00", Record: "pupil-ae", Field: "ckid"}},
			{"school and record shifted", vault.Place{Kind: "pupil", School: "12AB00p", Record: "upil-a", Field: "eckid"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := o.Open(tc.place, sealed)
				assertUnsealFailed(t, err, got)
			})
		}
	})

	t.Run("Tampered", func(t *testing.T) {
		sealed := mustSeal(t, s, pupilA, eckID)
		n := len(sealed)
		for _, region := range []struct {
			name     string
			from, to int
		}{
			{"term", 0, 4},
			{"version", 4, 5},
			{"nonce", 5, 17},
			{"body", 17, n - 16},
			{"tag", n - 16, n},
		} {
			t.Run(region.name, func(t *testing.T) {
				for i := region.from; i < region.to; i++ {
					for _, bit := range []byte{0x01, 0x80} {
						c := bytes.Clone(sealed)
						c[i] ^= bit
						got, err := o.Open(pupilA, c)
						if err == nil {
							t.Fatalf("byte %d ^ %#x: Open succeeded", i, bit)
						}
						if got != nil {
							t.Fatalf("byte %d: Open returned plaintext with error", i)
						}
						// A flipped term names a term the keyring lacks (or
						// one with another key); everything else is
						// ErrUnsealFailed.
						if !errors.Is(err, vault.ErrUnsealFailed) && !errors.Is(err, vault.ErrUnknownTerm) {
							t.Fatalf("byte %d: err = %v, want ErrUnsealFailed or ErrUnknownTerm", i, err)
						}
						if region.name != "term" && !errors.Is(err, vault.ErrUnsealFailed) {
							t.Fatalf("byte %d: err = %v, want ErrUnsealFailed", i, err)
						}
					}
				}
			})
		}
		t.Run("truncated", func(t *testing.T) {
			for _, l := range []int{0, 1, 4, 5, 17, vault.Overhead - 1, n - 1} {
				got, err := o.Open(pupilA, sealed[:l])
				assertUnsealFailed(t, err, got)
			}
		})
		t.Run("extended", func(t *testing.T) {
			got, err := o.Open(pupilA, append(bytes.Clone(sealed), 0))
			assertUnsealFailed(t, err, got)
		})
		if _, err := o.Open(pupilA, sealed); err != nil {
			t.Fatalf("Open modified the caller's bytes: %v", err)
		}
	})

	t.Run("InvalidPlace", func(t *testing.T) {
		sealed := mustSeal(t, s, pupilA, eckID)
		for _, p := range []vault.Place{
			{},
			{Kind: "parent", School: "12AB00", Record: "x", Field: "eckid"},
			{Kind: "pupil", Record: "x", Field: "eckid"},
			{Kind: "pupil", School: "12AB00", Field: "eckid"},
			{Kind: "pupil", School: "12AB00", Record: "x"},
		} {
			if _, err := s.Seal(p, eckID); !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("Seal(%+v) err = %v, want ErrInvalid", p, err)
			}
			if _, err := o.Open(p, sealed); !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("Open(%+v) err = %v, want ErrInvalid", p, err)
			}
		}
	})

	t.Run("ErrorsCarryNoPlaintext", func(t *testing.T) {
		sealed := mustSeal(t, s, pupilA, eckID)
		_, err := o.Open(pupilB, sealed)
		if err == nil {
			t.Fatal("Open at the wrong place succeeded")
		}
		msg := err.Error()
		if strings.Contains(msg, "ketenid") || strings.Contains(msg, "0123456789abcdef") {
			t.Errorf("error shows the plaintext: %s", msg)
		}
		if !strings.Contains(msg, "pupil-b") {
			t.Errorf("error %q does not name the place", msg)
		}
	})
}

func assertUnsealFailed(t *testing.T, err error, got []byte) {
	t.Helper()
	if err == nil {
		t.Fatal("Open succeeded, want ErrUnsealFailed")
	}
	if !errors.Is(err, vault.ErrUnsealFailed) || !errors.Is(err, gateway.ErrInvalid) {
		t.Fatalf("err = %v, want ErrUnsealFailed wrapping gateway.ErrInvalid", err)
	}
	if got != nil {
		t.Fatalf("Open returned %d bytes with its error", len(got))
	}
}

func TestGenerated(t *testing.T) { exerciseVault(t, newRing(t, 1)) }

func TestRotated(t *testing.T) { exerciseVault(t, rotate(t, newRing(t, 1), 2)) }

func TestGenerateDeterministic(t *testing.T) {
	a, b, c := newRing(t, 1), newRing(t, 1), newRing(t, 2)
	s := a.Sealer()
	sealed := mustSeal(t, s, pupilA, eckID)
	if _, err := b.Opener().Open(pupilA, sealed); err != nil {
		t.Errorf("same seed, other keyring cannot open: %v", err)
	}
	if _, err := c.Opener().Open(pupilA, sealed); !errors.Is(err, vault.ErrUnsealFailed) {
		t.Errorf("other seed opened the value: err = %v", err)
	}
	if !bytes.Equal(s.Index("12AB00", string(eckID)), b.Sealer().Index("12AB00", string(eckID))) {
		t.Error("same seed, different index")
	}
	if got, want := a.Terms(), []uint32{1}; !equalTerms(got, want) || a.ActiveTerm() != 1 {
		t.Errorf("Terms = %v active %d, want [1] active 1", got, a.ActiveTerm())
	}
	if got, ok := a.Created(1); !ok || !got.Equal(t0.Truncate(time.Second)) {
		t.Errorf("Created(1) = %v, %v", got, ok)
	}
}

func TestGenerateBadRandom(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"empty", bytes.NewReader(nil)},
		{"short", bytes.NewReader(make([]byte, 40))},
		{"repeats itself", bytes.NewReader(make([]byte, 64))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if kr, err := vault.Generate(tc.r, t0); err == nil {
				t.Fatalf("Generate = %v, want error", kr)
			}
		})
	}
}

func equalTerms(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRotate(t *testing.T) {
	kr1 := newRing(t, 1)
	old := mustSeal(t, kr1.Sealer(), pupilA, eckID)
	kr2 := rotate(t, kr1, 2)
	kr3 := rotate(t, kr2, 3)

	if got := kr3.Terms(); !equalTerms(got, []uint32{1, 2, 3}) || kr3.ActiveTerm() != 3 {
		t.Fatalf("after two rotations: terms %v active %d", got, kr3.ActiveTerm())
	}
	// Copy-on-write: the old keyrings are unchanged and still work.
	if got := kr1.Terms(); !equalTerms(got, []uint32{1}) || kr1.ActiveTerm() != 1 {
		t.Errorf("kr1 changed by Rotate: terms %v active %d", got, kr1.ActiveTerm())
	}
	if term := binary.BigEndian.Uint32(mustSeal(t, kr1.Sealer(), pupilA, eckID)); term != 1 {
		t.Errorf("old keyring seals with term %d, want 1", term)
	}
	if got, err := kr3.Opener().Open(pupilA, old); err != nil || !bytes.Equal(got, eckID) {
		t.Errorf("rotated keyring opens the old value: %q, %v", got, err)
	}
	fresh := mustSeal(t, kr3.Sealer(), pupilA, eckID)
	if term := binary.BigEndian.Uint32(fresh); term != 3 {
		t.Errorf("new seal uses term %d, want 3", term)
	}
	if _, err := kr1.Opener().Open(pupilA, fresh); !errors.Is(err, vault.ErrUnknownTerm) {
		t.Errorf("pre-rotation keyring opening a term-3 value: err = %v, want ErrUnknownTerm", err)
	}
	if c, ok := kr3.Created(3); !ok || !c.Equal(t0.Add(24*time.Hour).Truncate(time.Second)) {
		t.Errorf("Created(3) = %v, %v", c, ok)
	}
	// The index key does not rotate.
	for _, kr := range []*vault.Keyring{kr2, kr3} {
		if !bytes.Equal(kr1.Sealer().Index("12AB00", string(eckID)), kr.Sealer().Index("12AB00", string(eckID))) {
			t.Errorf("index changed by rotation (%s)", kr)
		}
	}
}

func TestRewrap(t *testing.T) {
	kr1 := newRing(t, 1)
	old := mustSeal(t, kr1.Sealer(), pupilA, eckID)
	kr2 := rotate(t, kr1, 2)

	for name, rewrap := range map[string]func(vault.Place, []byte) ([]byte, bool, error){
		"Keyring":   kr2.Rewrap,
		"Rewrapper": kr2.Rewrapper().Rewrap,
	} {
		t.Run(name, func(t *testing.T) {
			before := kr2.Seals(2)
			moved, changed, err := rewrap(pupilA, old)
			if err != nil || !changed {
				t.Fatalf("Rewrap = changed %v, err %v; want changed", changed, err)
			}
			if term := binary.BigEndian.Uint32(moved); term != 2 {
				t.Errorf("rewrapped term %d, want 2", term)
			}
			if got, err := kr2.Opener().Open(pupilA, moved); err != nil || !bytes.Equal(got, eckID) {
				t.Errorf("Open(rewrapped) = %q, %v", got, err)
			}
			if got := kr2.Seals(2) - before; got != 1 {
				t.Errorf("Rewrap used %d seals, want 1", got)
			}

			again, changed, err := rewrap(pupilA, moved)
			if err != nil || changed || !bytes.Equal(again, moved) {
				t.Errorf("second Rewrap = changed %v, err %v, same bytes %v; want a no-op", changed, err, bytes.Equal(again, moved))
			}
			if got := kr2.Seals(2) - before; got != 1 {
				t.Errorf("no-op Rewrap used a seal (%d total)", got)
			}

			if _, _, err := rewrap(pupilB, old); !errors.Is(err, vault.ErrUnsealFailed) {
				t.Errorf("Rewrap at the wrong place: err = %v, want ErrUnsealFailed", err)
			}
			if _, _, err := rewrap(pupilA, old[:10]); !errors.Is(err, vault.ErrUnsealFailed) {
				t.Errorf("Rewrap of truncated value: err = %v, want ErrUnsealFailed", err)
			}
		})
	}
}

func TestUnknownTerm(t *testing.T) {
	kr := newRing(t, 1)
	sealed := mustSeal(t, kr.Sealer(), pupilA, eckID)
	binary.BigEndian.PutUint32(sealed, 99)
	for name, fn := range map[string]func() error{
		"Open":   func() error { _, err := kr.Opener().Open(pupilA, sealed); return err },
		"Rewrap": func() error { _, _, err := kr.Rewrap(pupilA, sealed); return err },
	} {
		err := fn()
		if !errors.Is(err, vault.ErrUnknownTerm) {
			t.Fatalf("%s: err = %v, want ErrUnknownTerm", name, err)
		}
		if !strings.Contains(err.Error(), "unknown key term 99") {
			t.Errorf("%s: error %q does not name term 99", name, err)
		}
	}
}

func TestUnknownVersion(t *testing.T) {
	kr := newRing(t, 1)
	sealed := mustSeal(t, kr.Sealer(), pupilA, eckID)
	sealed[4] = 2
	_, err := kr.Opener().Open(pupilA, sealed)
	if !errors.Is(err, vault.ErrUnsealFailed) || !strings.Contains(err.Error(), "format version 2") {
		t.Fatalf("err = %v, want ErrUnsealFailed naming version 2", err)
	}
}

func TestIndex(t *testing.T) {
	kr := newRing(t, 1)
	s := kr.Sealer()
	id := string(eckID)
	other := "https://ketenid.nl/201703/" + strings.Repeat("f", 128)
	base := s.Index("12AB00", id)

	if len(base) != vault.IndexSize {
		t.Fatalf("len(Index) = %d, want %d", len(base), vault.IndexSize)
	}
	for _, tc := range []struct {
		name   string
		school gateway.SchoolID
		value  string
		same   bool
	}{
		{"again", "12AB00", id, true},
		{"surrounding space", "12AB00", "  " + id + "\n", true},
		{"upper case", "12AB00", strings.ToUpper(id), true},
		{"other school", "12AB01", id, false},
		{"other value", "12AB00", other, false},
		{"school and value shifted", "12AB0", "0" + id, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Index(tc.school, tc.value)
			if bytes.Equal(got, base) != tc.same {
				t.Errorf("Index equal to base = %v, want %v", !tc.same, tc.same)
			}
		})
	}
	for _, v := range []string{"", "  \t"} {
		if got := s.Index("12AB00", v); got != nil {
			t.Errorf("Index(%q) = %x, want nil", v, got)
		}
	}
	if bytes.Equal(base, newRing(t, 2).Sealer().Index("12AB00", id)) {
		t.Error("two index keys give the same index")
	}
	if bytes.Contains(base, eckID[:8]) {
		t.Error("index contains the value")
	}
}

func TestSealCounter(t *testing.T) {
	kr1 := newRing(t, 1)
	for range 3 {
		mustSeal(t, kr1.Sealer(), pupilA, eckID)
	}
	kr2 := rotate(t, kr1, 2)
	for range 2 {
		mustSeal(t, kr2.Sealer(), pupilA, eckID)
	}
	mustSeal(t, kr1.Sealer(), pupilA, eckID) // the old ring still counts term 1
	for _, tc := range []struct {
		kr   *vault.Keyring
		term uint32
		want uint64
	}{
		{kr1, 1, 4}, {kr2, 1, 4}, {kr2, 2, 2}, {kr1, 2, 0}, {kr2, 7, 0},
	} {
		if got := tc.kr.Seals(tc.term); got != tc.want {
			t.Errorf("%s Seals(%d) = %d, want %d", tc.kr, tc.term, got, tc.want)
		}
	}
	if kr2.NeedsRotation() {
		t.Error("NeedsRotation after two seals")
	}
	vault.SetSeals(kr2, 2, vault.RotateAt)
	if !kr2.NeedsRotation() {
		t.Error("no NeedsRotation at RotateAt")
	}
	if _, err := kr2.Sealer().Seal(pupilA, eckID); err != nil {
		t.Errorf("Seal past RotateAt: %v (should still work)", err)
	}
	vault.SetSeals(kr2, 2, vault.NonceLimit)
	if _, err := kr2.Sealer().Seal(pupilA, eckID); !errors.Is(err, vault.ErrTermExhausted) || !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("Seal at NonceLimit: err = %v, want ErrTermExhausted", err)
	}
	kr3 := rotate(t, kr2, 3)
	if _, err := kr3.Sealer().Seal(pupilA, eckID); err != nil {
		t.Errorf("Seal after rotating away from an exhausted term: %v", err)
	}
}

// TestSealConcurrent runs under -race: a keyring is shared by many pulls.
func TestSealConcurrent(t *testing.T) {
	kr := newRing(t, 1)
	s, o := kr.Sealer(), kr.Opener()
	const workers, each = 8, 50
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				sealed, err := s.Seal(pupilA, eckID)
				if err == nil {
					_, err = o.Open(pupilA, sealed)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := kr.Seals(1); got != workers*each {
		t.Errorf("Seals(1) = %d, want %d", got, workers*each)
	}
}

func TestSecretOpenerOpensSchoolSecretsOnly(t *testing.T) {
	kr, err := vault.Generate(cryptorand.Reader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	school := vault.Place{Kind: vault.KindSchool, School: "12AB00", Field: vault.FieldAutorisatiesleutel}
	pupil := vault.Place{Kind: vault.KindPupil, School: "12AB00", Record: "p1", Field: vault.FieldEckID}
	s1, _ := kr.Sealer().Seal(school, []byte("sleutel"))
	s2, _ := kr.Sealer().Seal(pupil, []byte("https://ketenid.nl/201703/00"))
	if got, err := kr.SecretOpener().Open(school, s1); err != nil || string(got) != "sleutel" {
		t.Errorf("school secret: %q, %v", got, err)
	}
	if _, err := kr.SecretOpener().Open(pupil, s2); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("pupil ECK iD through the secret opener: err = %v, want ErrForbidden", err)
	}
	if vault.TermOf(s1) != kr.ActiveTerm() || vault.TermOf(nil) != 0 {
		t.Errorf("TermOf = %d, want %d", vault.TermOf(s1), kr.ActiveTerm())
	}
}

func TestGatewaySecret(t *testing.T) {
	kr, err := vault.Generate(cryptorand.Reader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	place := vault.GatewaySecret(vault.FieldEvidenceKey)
	sealed, err := kr.Sealer().Seal(place, []byte("pkcs8"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kr.SecretOpener().Open(place, sealed); err != nil || string(got) != "pkcs8" {
		t.Fatalf("gateway secret through the secret opener: %q, %v", got, err)
	}
	// Bound to its place: not openable as some school's secret of that name.
	if _, err := kr.SecretOpener().Open(vault.SchoolSecret("12AB00", vault.FieldEvidenceKey), sealed); !errors.Is(err, vault.ErrUnsealFailed) {
		t.Errorf("gateway secret opened at a school place: %v, want ErrUnsealFailed", err)
	}
	if _, err := kr.Sealer().Seal(vault.Place{Kind: vault.KindGateway, School: "12AB00", Field: "x"}, []byte("x")); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("a gateway place naming a school: %v, want ErrInvalid", err)
	}
	if _, _, err := kr.Rewrap(place, sealed); err != nil {
		t.Errorf("Rewrap of a gateway secret: %v", err)
	}
}
