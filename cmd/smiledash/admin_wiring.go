package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"smiledash/handlers"
	"smiledash/models"
)

// adminDeps builds the dashboard: the first admin, sessions and the live stream.
func adminDeps(ctx context.Context, cfg Config, store *models.Store, stdout io.Writer, log *slog.Logger) (deps handlers.AdminDeps, stop func(), err error) {
	return handlers.AdminDeps{}, func() {}, nil
}

// adminCommand is `smiledash admin create --email E [--password P]`.
func adminCommand(ctx context.Context, e env, args []string) error {
	return errors.New("admin: not built yet")
}
