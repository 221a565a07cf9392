package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/static"
)

const sandboxSecretSetting = "sandbox_webhook_secret"

// serve runs the server until ctx ends, then shuts down gracefully: it stops
// accepting connections, lets in-flight requests finish, and drains the ingest
// writer, so no acknowledged webhook is lost.
func serve(ctx context.Context, e env, args []string) error {
	cfg, err := loadConfig(args, e.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg.LogLevel)
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()

	secrets, err := webhookSecrets(ctx, cfg, store)
	if err != nil {
		return err
	}
	metrics := handlers.NewMetrics()
	ingester, err := store.NewIngester(models.IngestOptions{Logger: log, OnBatch: metrics.ObserveBatch})
	if err != nil {
		return err
	}
	metrics.WatchQueue(ingester.QueueDepth)
	assets, err := static.New()
	if err != nil {
		return err
	}
	connect, stopConnect, err := connectDeps(ctx, cfg, store, secrets, log)
	if err != nil {
		return err
	}
	defer stopConnect()
	admin, stopAdmin, err := adminDeps(ctx, cfg, store, e.stdout, log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	pages, stopPages, err := pagesDeps(ctx, cfg, store, secrets, connect.Smile, log)
	if err != nil {
		return err
	}
	defer stopPages()
	// Reconciliation: Check with Smile reads the same client as the connect flow.
	var smileAPI models.SmileReader
	if connect.Smile != nil {
		smileAPI = connect.Smile
	}
	recon := reconDeps(cfg, store, smileAPI)
	stopSweep := startCheckSweep(ctx, cfg, store, smileAPI, log)
	defer stopSweep()
	app := handlers.NewApp(handlers.Deps{
		Log:      log,
		Webhooks: cfg.webhookConfig(secrets),
		Ingester: ingester,
		Metrics:  metrics,
		Ready:    readyCheck(store),
		Assets:   assets,
		Connect:  connect,
		Admin:    admin,
		Pages:    pages,
		Recon:    recon,
		Store:    store,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("Serving", slog.String("addr", ln.Addr().String()), slog.String("public_url", cfg.PublicURL),
		slog.String("database", describeDSN(cfg.DatabaseDSN())), slog.Bool("sandbox", cfg.Sandbox()))
	if cfg.Sandbox() {
		base := strings.TrimRight(cfg.PublicURL, "/")
		fmt.Fprintf(e.stdout, "\nsmiledash is running in SANDBOX mode (no SMILE_API_KEY): Smile is simulated.\n"+
			"  webhook URL:    %s/webhooks/smile\n  webhook secret: %s\n"+
			"  try it:         create a connect link at %s/admin/links and open it, or send\n"+
			"                  simulated traffic: smiledash simulate --url %s/webhooks/smile --secret %s\n\n",
			base, secrets[0], base, base, secrets[0])
	}

	if cfg.DebugAddr != "" {
		go servePprof(cfg.DebugAddr, log)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("Shutting down")
	stopSweep()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := app.ShutdownWithContext(shutdownCtx); err != nil {
		log.Error("HTTP shutdown incomplete", slog.Any("error", err))
	}
	if err := ingester.Close(shutdownCtx); err != nil {
		return fmt.Errorf("drain ingest writer: %w", err)
	}
	log.Info("Stopped cleanly")
	return nil
}

// webhookSecrets returns the configured secrets or, in sandbox mode without any,
// a generated secret kept in the database so it survives restarts.
func webhookSecrets(ctx context.Context, cfg Config, store *models.Store) ([]string, error) {
	if len(cfg.WebhookSecrets) > 0 {
		return cfg.WebhookSecrets, nil
	}
	if !cfg.Sandbox() {
		return nil, errors.New("no webhook secret configured") // validate() already refuses this
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generate sandbox webhook secret: %w", err)
	}
	secret, err := store.SettingOrCreate(ctx, sandboxSecretSetting, "sbx_"+hex.EncodeToString(b[:]))
	if err != nil {
		return nil, err
	}
	return []string{secret}, nil
}

// servePprof exposes Go's profiler for performance work. It is off unless
// SMILEDASH_DEBUG_ADDR is set, and meant for a loopback address.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Info("Serving pprof", slog.String("addr", addr))
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof server stopped", slog.Any("error", err))
	}
}
