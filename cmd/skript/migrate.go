package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/postgres"
)

// newMigrateCmd is `skript migrate`: it brings a SQL store's schema to the
// version this skript uses. Workers never change a shared database's
// schema by themselves (they only create it in an empty database), so an
// upgrade is a step someone decides on.
func newMigrateCmd() *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "migrate --store URL",
		Short: "Create or upgrade a SQL store's tables (postgres://...)",
		Long: `Create or upgrade the tables of a SQL store to the schema this skript uses.
It takes an advisory lock, so concurrent migrations run one after the other,
and each step runs in a transaction of its own. A store that finds an older
schema refuses to start and names this command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch store.SchemeOf(url) {
			case "postgres", "postgresql":
			case "":
				return exit(2, fmt.Errorf("--store: migrate needs a SQL store URL: postgres://[user:pass@]host:port/db (or $SKRIPT_STORE)"))
			default:
				return exit(2, fmt.Errorf("--store: migrate applies to SQL stores (postgres://...); the %s store has no schema to migrate", store.SchemeOf(url)))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			from, to, err := postgres.Migrate(ctx, url)
			if err != nil {
				return exit(2, fmt.Errorf("--store: %w", err))
			}
			out := cmd.OutOrStdout()
			if from == to {
				_, _ = fmt.Fprintf(out, "schema already at version %d\n", to)
				return nil
			}
			if from == 0 {
				_, _ = fmt.Fprintf(out, "created the Skript tables (schema version %d)\n", to)
				return nil
			}
			_, _ = fmt.Fprintf(out, "schema migrated from version %d to %d\n", from, to)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "store", os.Getenv("SKRIPT_STORE"), "SQL store URL: postgres://[user:pass@]host:port/db?sslmode=... (default $SKRIPT_STORE)")
	return cmd
}
