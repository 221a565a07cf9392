package main

import (
	"context"
	"errors"
	"log/slog"

	"smiledash/handlers"
	"smiledash/models"
)

// connectDeps builds the connect flow: the Smile client (real, or the built-in
// sandbox) and what the connect handlers need. stop releases what it started.
func connectDeps(ctx context.Context, cfg Config, store *models.Store, secrets []string, log *slog.Logger) (deps handlers.ConnectDeps, stop func(), err error) {
	return handlers.ConnectDeps{}, func() {}, nil
}

// linkCommand is `smiledash link create --ref EXTERNAL_REF [--label] [--expires]`.
func linkCommand(ctx context.Context, e env, args []string) error {
	return errors.New("link: not built yet")
}
