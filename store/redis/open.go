package redis

import (
	"context"
	"errors"

	"github.com/skript-dev/skript/store"
)

func init() {
	store.Register("redis", open)
	store.Register("rediss", open)
}

// open is the Redis store's store.Opener for redis:// and rediss:// URLs
// (see Open for the URL's options).
func open(ctx context.Context, url string, opts store.Options) (store.Store, error) {
	if opts.Retention < 0 {
		return nil, errors.New("redis store: ended runs cannot be kept forever (a retention of 0 or less); give a positive retention")
	}
	ro := []Option{WithLease(opts.Lease), WithRetention(opts.Retention), WithMaxDeliveries(opts.MaxDeliveries),
		WithJournalLimits(opts.Journal)}
	if opts.Logger != nil {
		ro = append(ro, WithLogger(opts.Logger))
	}
	if opts.AllowEviction {
		ro = append(ro, WithAllowEviction())
	}
	if opts.ReadOnly {
		ro = append(ro, WithReadOnly())
	}
	s, err := Open(ctx, url, ro...)
	if err != nil {
		return nil, err // not a nil *Store in a non-nil interface
	}
	return s, nil
}
