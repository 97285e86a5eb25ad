package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// durable runs write, a write that must not be lost, and then, when the
// store was opened with MinReplicas > 0, waits until that many replicas
// have acknowledged it: WAIT numreplicas timeout. Fewer within the timeout
// (a replica down, or far behind) is gateway.ErrTransient; the write itself
// then stands on the primary but may be lost in a failover, so the caller
// tries again (each of these writes is safe to repeat, or refuses a repeat
// with ErrConflict). With MinReplicas 0 write runs on the pool as before
// and nothing is waited for.
//
// WAIT counts the replicas that acknowledged the replication offset of the
// connection's own last write, so write and WAIT must share a connection:
// write gets one connection (a *redis.Conn) to run its commands on. It must
// return an error for a refusal (nothing written): then no WAIT is sent and
// the refusal is what the caller sees. Because replication is one ordered
// stream, the WAIT also covers every write any connection made before
// write, such as the evidence a delivery keeps before it settles the batch.
func (s *Store) durable(ctx context.Context, write func(c redis.Scripter) error) error {
	if s.minReplicas == 0 {
		return write(s.rdb)
	}
	conn := s.rdb.Conn()
	defer conn.Close()
	if err := write(conn); err != nil {
		return err
	}
	n, err := conn.Wait(ctx, s.minReplicas, s.waitTimeout).Result()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for %d replicas: %w", s.minReplicas, ctx.Err())
		}
		return fmt.Errorf("wait for %d replicas: %w: %w", s.minReplicas, gateway.ErrTransient, err)
	}
	if n < int64(s.minReplicas) {
		return fmt.Errorf("%w: %d of %d replicas acknowledged the write within %s (it may be lost in a failover)",
			gateway.ErrTransient, n, s.minReplicas, s.waitTimeout)
	}
	return nil
}

// failoverReplies are the starts of the server errors that a failover, a
// restart or a replica falling behind produces: worth a retry, so
// gateway.ErrTransient. READONLY: a demoted primary; NOREPLICAS: the
// primary's min-replicas-to-write refused the write; LOADING: a server
// still reading its data; MASTERDOWN: a replica that lost its primary;
// UNBLOCKED: a blocking read ended by a change of role.
var failoverReplies = []string{"READONLY", "NOREPLICAS", "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "UNBLOCKED"}

// inFailover reports whether err is trouble a failover causes and ends:
// one of failoverReplies, or no Sentinel answering.
func inFailover(err error) bool {
	msg := err.Error()
	for _, p := range failoverReplies {
		if strings.HasPrefix(msg, p+" ") || msg == p {
			return true
		}
	}
	return strings.HasPrefix(msg, "redis: all sentinels specified in configuration are unreachable")
}
