package memory

import (
	"context"
	"fmt"

	"github.com/skript-dev/skript/store"
)

func init() { store.Register("memory", open) }

// open is the memory store's store.Opener: "memory", "memory:" or
// "memory://". Its leases never run out and it counts no deliveries, so
// Lease and MaxDeliveries do not apply; a negative Retention keeps ended
// runs as long as the process lives.
func open(_ context.Context, url string, opts store.Options) (store.Store, error) {
	switch url {
	case "memory", "memory:", "memory://":
	default:
		return nil, fmt.Errorf("store URL: the memory store takes nothing after memory: (want memory)")
	}
	retention := opts.Retention
	if retention < 0 {
		retention = 0 // WithRetention(0): for ever
	}
	return New(WithRetention(retention), WithJournalLimits(opts.Journal)), nil
}
