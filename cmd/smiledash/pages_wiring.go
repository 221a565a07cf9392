package main

import (
	"context"
	"log/slog"
	"strings"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/live"
	"smiledash/smile"
)

// pagesDeps builds what the dashboard pages need; secrets are the webhook
// secrets in use (current first); smileClient is the real or
// sandbox Smile client (nil when the connect flow is not configured). Live
// streams end when ctx does (the shutdown signal), before the HTTP server
// drains; on PostgreSQL, changes from other replicas reach them through
// LISTEN/NOTIFY until stop is called.
func pagesDeps(ctx context.Context, cfg Config, store *models.Store, secrets []string, smileClient *smile.Client, log *slog.Logger) (deps handlers.PagesDeps, stop func(), err error) {
	deps = handlers.PagesDeps{
		Done: ctx.Done(),
		Settings: handlers.SettingsInfo{
			WebhookURL: strings.TrimRight(cfg.PublicURL, "/") + "/webhooks/smile",
			Secrets:    secrets,
			AllowedIPs: allowedIPsText(cfg),
			Sandbox:    cfg.Sandbox(),
		},
		ProjectorLag: store,
		LagWarn:      cfg.LagWarn,
	}
	if smileClient != nil && !cfg.Sandbox() {
		deps.Registrar = smileClient
	}
	stopBridge, err := live.Bridge(ctx, store.DB(), store.Changes(), log)
	if err != nil {
		return deps, nil, err
	}
	return deps, stopBridge, nil
}

func allowedIPsText(cfg Config) string {
	if cfg.Sandbox() {
		return cfg.WebhookAllowedIPs + " (and loopback, in sandbox mode)"
	}
	return cfg.WebhookAllowedIPs
}
