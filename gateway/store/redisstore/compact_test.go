package redisstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

// rawValues returns every value under prefix as text: strings, hash fields
// and values, list, set and sorted-set members, stream fields.
func rawValues(t *testing.T, c *redis.Client, prefix string) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		switch typ {
		case "string":
			vals = []string{c.Get(ctx, k).Val()}
		case "hash":
			for f, v := range c.HGetAll(ctx, k).Val() {
				vals = append(vals, f, v)
			}
		case "list":
			vals = c.LRange(ctx, k, 0, -1).Val()
		case "set":
			vals = c.SMembers(ctx, k).Val()
		case "zset":
			vals = c.ZRange(ctx, k, 0, -1).Val()
		case "stream":
			for _, m := range c.XRange(ctx, k, "-", "+").Val() {
				vals = append(vals, fmt.Sprint(m.Values))
			}
		default:
			t.Fatalf("key %s has type %s", k, typ)
		}
		b.WriteString(k + "\n" + strings.Join(vals, "\n") + "\n")
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A purged pupil is gone from every key at once: Compact has nothing to do
// (it is a no-op here, where the bbolt store rewrites its file).
func TestPurgedPupilsLeaveNoValue(t *testing.T) {
	s, prefix := openStore(t)
	ctx := t.Context()
	const id = gateway.SchoolID("12AB00")
	if err := s.PutSchool(ctx, gateway.School{ID: id}); err != nil {
		t.Fatal(err)
	}
	var ps []gateway.Pupil
	var purge []gateway.PupilID
	for i := range 40 {
		p := gateway.Pupil{ID: gateway.PupilID(fmt.Sprintf("p%03d", i)), School: id, LastName: fmt.Sprintf("Kept%03d", i), BirthDate: "2016-01-01"}
		if i < 30 {
			p.LastName, p.BirthDate = fmt.Sprintf("Purged%03d", i), fmt.Sprintf("2011-02-%02d", 1+i%28)
			purge = append(purge, p.ID)
		}
		ps = append(ps, p)
	}
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutPupils(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgePupils(ctx, id, purge); err != nil || n != len(purge) {
		t.Fatalf("PurgePupils = %d, %v", n, err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	raw := rawValues(t, rawClient(t), prefix)
	for _, p := range ps {
		has := strings.Contains(raw, p.LastName) || (strings.HasPrefix(p.LastName, "Purged") && strings.Contains(raw, p.BirthDate))
		if want := !strings.HasPrefix(p.LastName, "Purged"); has != want {
			t.Errorf("pupil %s in the keys: %v, want %v", p.ID, has, want)
		}
	}
}

// The personal part of an audit entry is only in the chain's personal hash:
// the log and head never hold it, and once deleted it is in no key.
func TestPersonalPartsLeaveNoValue(t *testing.T) {
	s, prefix := openStore(t)
	ctx := t.Context()
	log := audit.New(s, nil)
	var gone, kept []string
	for i := range 6 {
		e, err := log.Gateway(ctx, gateway.AuditLogin, fmt.Sprintf("Person%02d", i), map[string]string{"account": fmt.Sprintf("acct%02d", i), "remote": fmt.Sprintf("198.51.%d.7", i)})
		if err != nil {
			t.Fatal(err)
		}
		vals := []string{e.Actor, e.Details["account"], e.Details["remote"], e.Personal.Salt}
		if i < 4 {
			gone = append(gone, vals...)
			if n, err := s.DeleteAuditPersonal(ctx, e.Chain, []uint64{e.Seq}); err != nil || n != 1 {
				t.Fatalf("DeleteAuditPersonal = %d, %v", n, err)
			}
		} else {
			kept = append(kept, vals...)
		}
	}
	c := rawClient(t)
	raw := rawValues(t, c, prefix)
	for _, v := range gone {
		if strings.Contains(raw, v) {
			t.Errorf("a key holds %q of a deleted personal part", v)
		}
	}
	chain := strings.Join(c.LRange(ctx, prefix+"audit:{gateway}:log", 0, -1).Val(), "\n") + c.HGet(ctx, prefix+"audit:{gateway}:head", "entry").Val()
	for _, v := range kept {
		if !strings.Contains(raw, v) || strings.Contains(chain, v) {
			t.Errorf("%q of a kept personal part: in the keys %v, in the log or head %v; want only in the personal hash",
				v, strings.Contains(raw, v), strings.Contains(chain, v))
		}
	}
}
