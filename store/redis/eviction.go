package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/rueidis"
)

// checkEviction refuses a server that may evict keys. Every key of a run
// that has not ended carries its state with no copy elsewhere (queue
// entries, tokens, join counters, records), so a server that evicts under
// memory pressure strands, loses or wrongly fails runs. On a Cluster every
// node is asked, since each may be configured apart.
func (s *Store) checkEviction(ctx context.Context) error {
	for addr, n := range s.c.Nodes() {
		policy, err := evictionPolicy(ctx, n)
		if err != nil {
			if isUnreachable(err) {
				return err
			}
			// A managed Redis or a restricted ACL user may deny both
			// CONFIG and INFO; that is no reason not to run.
			s.log.Warn("redis store: cannot read maxmemory-policy, so cannot check that Redis never evicts run state; make sure it is noeviction",
				"node", addr, "err", err)
			continue
		}
		if policy == "noeviction" {
			continue
		}
		what := "any key, so running runs may be lost, stay stuck or fail wrongly"
		if strings.HasPrefix(policy, "volatile-") {
			// Skript sets a TTL only on the keys of ended runs (kept for
			// the retention), so these policies take only those.
			what = "keys with a TTL: ended runs, whose results may then vanish before their retention"
		}
		if !s.opt.allowEviction {
			return fmt.Errorf("redis store: node %s has maxmemory-policy %s, which under memory pressure evicts %s: set it to noeviction (CONFIG SET maxmemory-policy noeviction), or accept the risk with allow_eviction=true in the URL (--allow-eviction)",
				addr, policy, what)
		}
		s.log.Warn("redis store: maxmemory-policy evicts run state; going on since eviction was allowed",
			"node", addr, "maxmemory_policy", policy, "may_lose", what)
	}
	return nil
}

// evictionPolicy reads a node's maxmemory-policy: with CONFIG GET, or, when
// the user may not run CONFIG (managed services rename or deny it), from
// INFO memory.
func evictionPolicy(ctx context.Context, n rueidis.Client) (string, error) {
	kv, cerr := n.Do(ctx, n.B().ConfigGet().Parameter("maxmemory-policy").Build()).AsStrMap()
	if cerr == nil {
		if p, ok := kv["maxmemory-policy"]; ok {
			return p, nil
		}
	}
	if isUnreachable(cerr) {
		return "", cerr
	}
	if cerr == nil {
		cerr = errors.New("no maxmemory-policy in its reply")
	}
	info, err := n.Do(ctx, n.B().Info().Section("memory").Build()).ToString()
	if err != nil {
		if isUnreachable(err) {
			return "", err
		}
		return "", fmt.Errorf("CONFIG GET: %w; INFO memory: %w", cerr, err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "maxmemory_policy:"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("CONFIG GET: %w; INFO memory has no maxmemory_policy", cerr)
}
