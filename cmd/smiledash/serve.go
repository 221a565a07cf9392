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
	"sync"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/ingest"
	"smiledash/static"
)

const sandboxSecretSetting = "sandbox_webhook_secret"

// serve runs the server until ctx ends, then shuts down gracefully: it stops
// accepting connections, lets in-flight requests finish, and drains the ingest
// writer, so no acknowledged webhook is lost.
func serve(ctx context.Context, e env, args []string) error {
	cfg, err := loadConfigFlags(newFlagSet(e, "serve", "serve [flags]"), args, e.getenv)
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
	eventLog := ingest.New(store)
	ingester, err := eventLog.NewWriter(ingest.WriterOptions{Logger: log, OnBatch: metrics.ObserveBatch,
		Projector: ingest.ProjectorOptions{LagWarn: cfg.LagWarn, OnBatch: metrics.ObserveProjector}})
	if err != nil {
		return err
	}
	// Every way out of serve drains the writer, so no acknowledged webhook is
	// lost and the store is not closed under it: the early error returns below
	// through this defer, shutdown and a failed listener explicitly.
	drain := sync.OnceValue(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		if err := ingester.Close(ctx); err != nil {
			return fmt.Errorf("drain ingest writer: %w", err)
		}
		return nil
	})
	defer func() { _ = drain() }()
	metrics.WatchQueue(ingester.QueueDepth)
	metrics.WatchProjectorLag(store)
	// Retention (retention.go): batched, on its own goroutine, stopped before
	// the store closes.
	stopRetention := startRetention(cfg, store, log)
	defer stopRetention()
	// The search index follows the log in the background, off the webhook's
	// acknowledgement path, behind webhooks and behind the projector: after a
	// burst, both caught up at once halved the projector's rate (the
	// projections are what pages and the overview read). It stops before
	// the store closes.
	indexerCtx, stopIndexer := context.WithCancel(ctx)
	indexerDone := make(chan struct{})
	go func() {
		defer close(indexerDone)
		store.RunSearchIndexer(indexerCtx, models.SearchIndexerOptions{Logger: log,
			Busy: func() bool { return ingester.Busy() || ingester.Projector().CatchingUp() }})
	}()
	defer func() { stopIndexer(); <-indexerDone }()
	assets, err := static.New()
	if err != nil {
		return err
	}
	connect, stopConnect, err := connectDeps(ctx, cfg, store, secrets, log)
	if err != nil {
		return err
	}
	defer stopConnect()
	accounts := auth.New(store)
	admin, stopAdmin, err := adminDeps(ctx, cfg, accounts, e.stdout, log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	pages, stopPages, err := pagesDeps(ctx, cfg, store, secrets, connect.Smile, log)
	if err != nil {
		return err
	}
	defer stopPages()
	// Rebuilds started from the dashboard are stopped and awaited on every
	// exit path, before the store closes.
	var jobs backgroundJobs
	pages.Background = jobs.run
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = jobs.stop(ctx, eventLog)
	}()
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
		Stores:   handlerStores(eventLog, accounts),
	})

	maxConns := connectionLimit(log)
	app.Server().Concurrency = maxConns
	tcp, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	ln := newGuardedListener(tcp, maxConns, log)
	log.Info("Serving", slog.String("addr", ln.Addr().String()), slog.String("public_url", cfg.PublicURL),
		slog.String("database", describeDSN(cfg.DatabaseDSN())), slog.Bool("sandbox", cfg.Sandbox()),
		slog.Int("max_connections", maxConns))
	if cfg.Sandbox() {
		base := strings.TrimRight(cfg.PublicURL, "/")
		api, err := sandboxBanner(ctx, cfg, store)
		if err != nil {
			_ = ln.Close()
			return err
		}
		fmt.Fprintf(e.stdout, "\nsmiledash is running in SANDBOX mode (no SMILE_API_KEY): Smile is simulated.\n"+
			"  webhook URL:    %s/webhooks/smile\n  webhook secret: %s\n%s"+
			"  try it:         create a connect link at %s/admin/links and open it, or send\n"+
			"                  simulated traffic: smiledash simulate --url %s/webhooks/smile --secret %s\n"+
			"                  (no smiledash command yet? go install ./cmd/smiledash from the source folder)\n\n",
			base, secrets[0], api, base, base, secrets[0])
	}

	if cfg.DebugAddr != "" {
		go servePprof(cfg.DebugAddr, log)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	var stopped error
	select {
	case err := <-served:
		stopped = fmt.Errorf("server stopped: %w", err)
		log.Error("Server stopped; draining", slog.Any("error", err))
	case <-ctx.Done():
		log.Info("Shutting down")
	}
	stopSweep()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := app.ShutdownWithContext(shutdownCtx); err != nil {
		log.Error("HTTP shutdown incomplete", slog.Any("error", err))
	}
	if err := jobs.stop(shutdownCtx, eventLog); err != nil {
		log.Error("Background jobs not finished", slog.Any("error", err))
	}
	if err := drain(); err != nil {
		return errors.Join(stopped, err)
	}
	if stopped != nil {
		return stopped
	}
	log.Info("Stopped cleanly")
	return nil
}

// drainTimeout bounds shutdown: in-flight requests, then the ingest writer.
const drainTimeout = 30 * time.Second

// connectionLimit raises the open-file limit as far as allowed and returns the
// connection cap that fits under it.
func connectionLimit(log *slog.Logger) int {
	before, soft, hard, err := raiseFileLimit()
	if err != nil {
		log.Warn("Could not raise the open-file limit", slog.Any("error", err))
	}
	maxConns := connectionCap(soft)
	log.Info("Open-file limit", slog.Uint64("soft_before", before), slog.Uint64("soft", soft), slog.Uint64("hard", hard),
		slog.Int("max_connections", maxConns))
	return maxConns
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

// handlerStores is the database as each group of handlers uses it: one store
// behind all of them, its event log, and its auth store for sign-in.
func handlerStores(eventLog *ingest.Log, accounts *auth.Store) handlers.Stores {
	store := eventLog.Store()
	return handlers.Stores{Pages: store, Links: store, Connect: store, Recon: store, Audit: store,
		Auth: accounts, Changes: store.Changes(), Log: eventLog}
}
