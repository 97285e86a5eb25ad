package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Keys and bucket names inside a school's bucket (see doc.go).
var (
	keySchool   = []byte("school")
	keyCurrent  = []byte("current")
	keyStaging  = []byte("staging")
	keyStageRun = []byte("stagerun")
	keyKept     = []byte("kept")

	bktConsent = []byte("consent")
	bktHistory = []byte("history")
	bktRuns    = []byte("runs")
	bktGens    = []byte("gens")
	bktRetired = []byte("retired")

	bktPupils     = []byte("pupils")
	bktTeachers   = []byte("teachers")
	bktGroups     = []byte("groups")
	bktComposites = []byte("composites")
)

const schoolPrefix = "school/"

func schoolBucketName(id gateway.SchoolID) []byte { return []byte(schoolPrefix + string(id)) }

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// genOf decodes a generation key; 0 when malformed.
func genOf(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// gen reads a generation key; 0 when absent.
func gen(b *bolt.Bucket, key []byte) uint64 {
	return genOf(b.Get(key))
}

// schoolBucket returns the bucket of a school, or ErrNotFound.
func schoolBucket(tx *bolt.Tx, id gateway.SchoolID) (*bolt.Bucket, error) {
	b := tx.Bucket(schoolBucketName(id))
	if b == nil {
		return nil, fmt.Errorf("school %s: %w", id, gateway.ErrNotFound)
	}
	return b, nil
}

// genBucket returns the data bucket of generation g of a school, or nil.
func genBucket(sb *bolt.Bucket, g uint64) *bolt.Bucket {
	if g == 0 {
		return nil
	}
	gens := sb.Bucket(bktGens)
	if gens == nil {
		return nil
	}
	return gens.Bucket(u64(g))
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// forEachJSON decodes every value of a bucket, in key order.
func forEachJSON[T any](b *bolt.Bucket, fn func(T) error) error {
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil { // a nested bucket
			return nil
		}
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("decode %q: %w", k, err)
		}
		return fn(x)
	})
}

func listJSON[T any](b *bolt.Bucket) ([]T, error) {
	var out []T
	err := forEachJSON(b, func(x T) error { out = append(out, x); return nil })
	return out, err
}

// decode decodes one stored record; a missing record is an error.
func decode(data []byte, v any) error {
	if data == nil {
		return errors.New("record missing")
	}
	return json.Unmarshal(data, v)
}
