package vault_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"
)

// The benchmarks use an ECK iD-sized value (154 bytes), so BenchmarkSeal
// against BenchmarkRawAESGCM is the vault's overhead per sealed ECK iD: the
// place check, the additional data, the header and the seal counter.

func BenchmarkSeal(b *testing.B) {
	s := newRing(b, 1).Sealer()
	b.SetBytes(int64(len(eckID)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal(pupilA, eckID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := newRing(b, 1)
	sealed := mustSeal(b, kr.Sealer(), pupilA, eckID)
	o := kr.Opener()
	b.SetBytes(int64(len(eckID)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Open(pupilA, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndex(b *testing.B) {
	s := newRing(b, 1).Sealer()
	id := string(eckID)
	b.SetBytes(int64(len(eckID)))
	b.ReportAllocs()
	for b.Loop() {
		s.Index("12AB00", id)
	}
}

// BenchmarkRawAESGCM is the floor: a plain AES-256-GCM Seal of the same
// bytes with a precomputed AEAD and a nonce from crypto/rand, no header, no
// additional data.
func BenchmarkRawAESGCM(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	b.SetBytes(int64(len(eckID)))
	b.ReportAllocs()
	for b.Loop() {
		rand.Read(nonce)
		_ = aead.Seal(nil, nonce, eckID, nil)
	}
}
