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
	"sort"
	"strings"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/sandbox"
)

// sandboxSpeedup compresses Smile's pace in the sandbox: a flow whose events
// Smile spreads over a minute arrives in about six seconds, so a demo shows the
// account moving through its states without waiting.
const sandboxSpeedup = 10

// sandboxBaseURL is the made-up host of the in-process fake Smile API; requests
// to it never leave the process (fakeapi.Transport).
const sandboxBaseURL = "http://sandbox.smile.invalid/v1"

// connectDeps builds the connect flow: the Smile client (real, or the built-in
// sandbox) and what the connect handlers need. stop releases what it started.
func connectDeps(ctx context.Context, cfg Config, store *models.Store, secrets []string, log *slog.Logger) (deps handlers.ConnectDeps, stop func(), err error) {
	deps = handlers.ConnectDeps{WidgetScriptURL: cfg.WidgetScriptURL, WidgetHosts: cfg.WidgetHosts, TemplateID: cfg.TemplateID, PublicURL: cfg.PublicURL}
	if !cfg.Sandbox() {
		deps.Smile, err = smile.NewClient(smile.ClientConfig{
			BaseURL: cfg.SmileAPIBaseURL, APIKey: cfg.SmileAPIKey, APISecret: cfg.SmileAPISecret,
		})
		if err != nil {
			return deps, nil, fmt.Errorf("smile client: %w", err)
		}
		return deps, func() {}, nil
	}
	if len(secrets) == 0 {
		return deps, nil, errors.New("sandbox: no webhook secret to sign the simulated webhooks with")
	}
	key, secret, err := sandboxCredentials(ctx, store)
	if err != nil {
		return deps, nil, err
	}
	api := fakeapi.New(fakeapi.Options{APIKey: key, APISecret: secret, AdoptUnknownUsers: true})
	deps.Smile, err = smile.NewClient(smile.ClientConfig{
		BaseURL: sandboxBaseURL, APIKey: key, APISecret: secret,
		HTTPClient:        &http.Client{Transport: fakeapi.Transport(api), Timeout: 10 * time.Second},
		RequestsPerSecond: -1,
	})
	if err != nil {
		return deps, nil, fmt.Errorf("sandbox smile client: %w", err)
	}
	sim, err := sandbox.New(sandbox.Options{
		API: api, Secret: []byte(secrets[0]), Speedup: sandboxSpeedup, SecondApart: true,
		Log: log.With(slog.String("component", "sandbox")),
	})
	if err != nil {
		return deps, nil, err
	}
	// With a fixed port the receiver is known now; with port 0 the sandbox
	// learns it from the first request it serves.
	sim.SetReceiverURL(loopbackWebhookURL(cfg.Addr))
	// The whole sandbox (fake Smile API over HTTP, the sandbox widget's calls)
	// is one sub-app the server mounts at /sandbox.
	deps.Sandbox = sim.Handler()
	return deps, sim.Close, nil
}

// sandboxCredentialsSetting keeps the sandbox API credentials across restarts,
// so an integrator's backend configured with them keeps working.
const sandboxCredentialsSetting = "sandbox_api_credentials"

// sandboxCredentials returns the HTTP Basic key and secret of the sandbox's
// fake Smile API, generated on first start and kept in the database.
func sandboxCredentials(ctx context.Context, store *models.Store) (key, secret string, err error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generate sandbox API credentials: %w", err)
	}
	fresh := "sandbox-" + hex.EncodeToString(b[:4]) + ":" + "sbxs_" + hex.EncodeToString(b[4:])
	v, err := store.SettingOrCreate(ctx, sandboxCredentialsSetting, fresh)
	if err != nil {
		return "", "", err
	}
	key, secret, ok := strings.Cut(v, ":")
	if !ok || key == "" || secret == "" {
		return "", "", fmt.Errorf("sandbox API credentials setting %q is malformed", sandboxCredentialsSetting)
	}
	return key, secret, nil
}

// sandboxBanner is what `serve` prints in sandbox mode about the sandbox Smile
// API and widget, so an existing Smile integration can be pointed at them.
func sandboxBanner(ctx context.Context, cfg Config, store *models.Store) (string, error) {
	key, secret, err := sandboxCredentials(ctx, store)
	if err != nil {
		return "", err
	}
	base := strings.TrimRight(cfg.PublicURL, "/")
	script := cfg.WidgetScriptURL
	if strings.HasPrefix(script, "/") {
		script = base + script
	}
	return fmt.Sprintf("  Smile API:      %s%s  (HTTP Basic: key %s, secret %s)\n"+
		"  widget script:  %s  (defines SmileLinkModal, like smile.v2.js)\n",
		base, sandbox.APIPath, key, secret, script), nil
}

// loopbackWebhookURL is our own webhook receiver on the loopback interface, as
// the sandbox reaches it, for a listen address like ":8080" or
// "127.0.0.1:8080"; "" when the port is not fixed yet.
func loopbackWebhookURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) || strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/webhooks/smile"
}

// linkCommand is `smiledash link create --ref EXTERNAL_REF [--label] [--expires]`.
func linkCommand(ctx context.Context, e env, args []string) error {
	const linkUsage = "Usage: smiledash link create --ref EXTERNAL_REF [--label L] [--expires 72h]"
	if len(args) > 0 && isHelpArg(args[0]) {
		fmt.Fprintln(e.stdout, linkUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "create" {
		return usageErrorf("link: want a subcommand\n%s", linkUsage)
	}
	fs := newFlagSet(e, "link create", "link create --ref REF [--label L] [--expires 72h]")
	ref := fs.String("ref", "", "your reference for the person (required; sent to Smile, ASCII)")
	label := fs.String("label", "", "a name shown on the page and in the admin list")
	expires := fs.Duration("expires", 0, "how long the link works, e.g. 72h (default: never expires)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("link create: unexpected argument %q", fs.Arg(0))
	}
	if *expires < 0 {
		return errors.New("link create: --expires must be positive")
	}
	cfg, err := loadConfig(nil, e.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	store, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now()
	in := models.NewLink{ExternalRef: strings.TrimSpace(*ref), Label: strings.TrimSpace(*label), CreatedBy: "cli", Now: now}
	if *expires > 0 {
		at := now.Add(*expires)
		in.ExpiresAt = &at
	}
	if errs := models.ValidateNewLink(in); len(errs) > 0 {
		flagOf := map[string]string{"external_ref": "--ref", "label": "--label", "expires": "--expires"}
		var msgs []string
		for field, msg := range errs {
			msgs = append(msgs, flagOf[field]+": "+msg)
		}
		sort.Strings(msgs)
		return errors.New("link create: " + strings.Join(msgs, "; "))
	}
	l, err := store.CreateLink(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, strings.TrimRight(cfg.PublicURL, "/")+"/connect/"+l.Code)
	return nil
}
