package boltstore

import (
	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Generations returns how many snapshot generations a school has on disk.
func Generations(s *Store, id gateway.SchoolID) (int, error) {
	n := 0
	err := s.viewDB(func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		if gens := sb.Bucket(bktGens); gens != nil {
			return gens.ForEachBucket(func([]byte) error { n++; return nil })
		}
		return nil
	})
	return n, err
}
