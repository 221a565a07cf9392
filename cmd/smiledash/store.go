package main

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"smiledash/models"
)

// newLogger logs JSON when stdout is not a terminal (production), text otherwise.
func newLogger(level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lvl}
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return slog.New(slog.NewTextHandler(os.Stdout, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, opts))
}

// openStore opens the configured database and applies pending migrations.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*models.Store, error) {
	store, err := models.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	if applied > 0 {
		log.Info("Applied migrations", slog.Int("count", applied))
	}
	return store, nil
}

// describeDSN names the database without credentials, for logs.
func describeDSN(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 && strings.Contains(dsn, "://") {
		return dsn[:strings.Index(dsn, "://")+3] + "…" + dsn[i:]
	}
	return dsn
}

// readyCheck is what /readyz asks: the database answers, every migration is
// applied, and a write commits (checked at most every models.WriteCheckEvery,
// so probes do not compete with the ingest writer).
func readyCheck(store *models.Store) func(ctx context.Context) error {
	return models.NewReadiness(store, models.WriteCheckEvery, time.Now).Check
}

func openStoreNoMigrate(ctx context.Context, cfg Config) (*models.Store, error) {
	return models.Open(ctx, cfg.DatabaseDSN())
}
