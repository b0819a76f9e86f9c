package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/redis"
)

// storeFlags select and tune the store.
type storeFlags struct {
	url       string
	lease     time.Duration
	retention time.Duration
	// maxDeliveries: 0 or less is the driver's default.
	maxDeliveries int
}

func (f *storeFlags) register(cmd *cobra.Command, requireURL bool) {
	def := os.Getenv("SKRIPT_STORE")
	help := "store URL: memory (default) or redis://[user:pass@]host:port/db, rediss:// for TLS (default $SKRIPT_STORE)"
	if requireURL {
		help = "store URL: redis://[user:pass@]host:port/db or rediss:// (default $SKRIPT_STORE)"
	}
	cmd.Flags().StringVar(&f.url, "store", def, help)
	cmd.Flags().DurationVar(&f.lease, "lease", 30*time.Second, "Redis: a task not heartbeated for this long is taken over by another worker")
	cmd.Flags().IntVar(&f.maxDeliveries, "max-deliveries", redis.DefaultMaxDeliveries,
		"Redis: after this many workers stopped while running a task (crash, kill, lost lease), its node fails instead of running it again")
	cmd.Flags().DurationVar(&f.retention, "retention", 7*24*time.Hour, "how long ended runs are kept")
}

func (f *storeFlags) isMemory() bool {
	return f.url == "" || f.url == "memory" || strings.HasPrefix(f.url, "memory:")
}

// requireShared refuses the memory store for commands that work across
// processes.
func (f *storeFlags) requireShared(command string) error {
	if f.isMemory() {
		return exit(2, fmt.Errorf("%s needs a shared store: --store redis://... (or $SKRIPT_STORE)", command))
	}
	return nil
}

// open connects to the selected store. Errors are usage errors (exit 2).
func (f *storeFlags) open(ctx context.Context) (store.Store, error) {
	if f.isMemory() {
		return memory.New(memory.WithRetention(f.retention)), nil
	}
	if !strings.HasPrefix(f.url, "redis://") && !strings.HasPrefix(f.url, "rediss://") {
		return nil, exit(2, fmt.Errorf("--store %q: want memory, redis://HOST:PORT/DB or rediss://HOST:PORT/DB", f.url))
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := redis.Open(cctx, f.url, redis.WithLease(f.lease), redis.WithRetention(f.retention),
		redis.WithMaxDeliveries(f.maxDeliveries))
	if err != nil {
		return nil, exit(2, fmt.Errorf("--store: %w", err))
	}
	return s, nil
}
