package postgres

import (
	"context"

	"github.com/skript-dev/skript/store"
)

func init() {
	store.Register("postgres", open)
	store.Register("postgresql", open)
}

// open is the driver's store.Opener for postgres:// and postgresql://
// URLs (libpq's URL form: postgres://user:pass@host:port/db?sslmode=...).
func open(ctx context.Context, url string, opts store.Options) (store.Store, error) {
	s, err := Open(ctx, url, opts)
	if err != nil {
		return nil, err // not a nil *Store in a non-nil interface
	}
	return s, nil
}
