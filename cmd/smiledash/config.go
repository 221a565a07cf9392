package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"smiledash/handlers"
)

// Config is the whole configuration of a smiledash process. It is read once, from
// the environment with flags of `serve` taking precedence, validated, and passed down.
type Config struct {
	Addr              string
	DataDir           string
	DatabaseURL       string
	PublicURL         string
	WebhookSecrets    []string
	WebhookAllowedIPs string
	TrustedProxies    string
	WebhookMaxBytes   int
	AdminEmail        string
	AdminPassword     string
	SmileAPIKey       string
	SmileAPISecret    string
	SmileAPIBaseURL   string
	WidgetScriptURL   string
	TemplateID        string
	LogLevel          string
	// DebugAddr, when set, serves Go's pprof profiles there (keep it on loopback).
	DebugAddr string
	// Reconciliation (recon_wiring.go).
	GapWindow   time.Duration
	StaleAfter  time.Duration
	CheckBudget int
}

// Sandbox reports whether smiledash runs its built-in Smile simulator: it does
// whenever no Smile API key is configured.
func (c Config) Sandbox() bool { return c.SmileAPIKey == "" }

// DatabaseDSN is the PostgreSQL URL, or the SQLite file path.
func (c Config) DatabaseDSN() string {
	if strings.Contains(c.DatabaseURL, "://") {
		return c.DatabaseURL
	}
	if filepath.IsAbs(c.DatabaseURL) {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, c.DatabaseURL)
}

// Default values, as documented in the README's configuration table.
const (
	defaultSmileAPIBaseURL = "https://sandbox.smileapi.io/v1"
	defaultWidgetScriptURL = "https://web.smileapi.io/v2/smile.v2.js"
	// SandboxWidgetScriptPath is where the server serves its sandbox widget.
	sandboxWidgetScriptPath = "/static/js/sandbox-widget.js"
	smileWebhookIP          = "18.142.61.230"
)

type setting struct {
	env, flag, def, usage string
	dst                   *string
}

// loadConfig reads the environment through getenv, then the flags in args.
func loadConfig(args []string, getenv func(string) string) (Config, error) {
	var c Config
	var secrets, maxBytes string
	var recon reconSettings
	settings := []setting{
		{"SMILEDASH_ADDR", "addr", ":8080", "listen address", &c.Addr},
		{"SMILEDASH_DATA_DIR", "data-dir", "./data", "where the SQLite file lives", &c.DataDir},
		{"SMILEDASH_DATABASE_URL", "database-url", "smiledash.db", "SQLite file in the data dir, or postgres://...", &c.DatabaseURL},
		{"SMILEDASH_PUBLIC_URL", "public-url", "http://localhost:8080", "base of links shown to people and registered with Smile", &c.PublicURL},
		{"SMILEDASH_WEBHOOK_SECRETS", "webhook-secrets", "", "comma-separated webhook secrets; the first is current", &secrets},
		{"SMILEDASH_WEBHOOK_ALLOWED_IPS", "webhook-allowed-ips", smileWebhookIP, "IPs/CIDRs that may send webhooks; * allows all", &c.WebhookAllowedIPs},
		{"SMILEDASH_TRUSTED_PROXIES", "trusted-proxies", "", "CIDRs whose X-Forwarded-For is believed", &c.TrustedProxies},
		{"SMILEDASH_WEBHOOK_MAX_BYTES", "webhook-max-bytes", strconv.Itoa(handlers.DefaultWebhookMaxBytes), "webhook body limit in bytes", &maxBytes},
		{"SMILEDASH_ADMIN_EMAIL", "admin-email", "", "create this first admin if none exists", &c.AdminEmail},
		{"SMILEDASH_ADMIN_PASSWORD", "admin-password", "", "password of that first admin", &c.AdminPassword},
		{"SMILE_API_KEY", "smile-api-key", "", "Smile API key; empty runs the sandbox simulator", &c.SmileAPIKey},
		{"SMILE_API_SECRET", "smile-api-secret", "", "Smile API secret", &c.SmileAPISecret},
		{"SMILE_API_BASE_URL", "smile-api-base-url", defaultSmileAPIBaseURL, "Smile REST base URL", &c.SmileAPIBaseURL},
		{"SMILE_WIDGET_SCRIPT_URL", "smile-widget-script-url", "", "Wink Widget script (default: Smile's v2 script, or the sandbox one)", &c.WidgetScriptURL},
		{"SMILE_TEMPLATE_ID", "smile-template-id", "", "Wink template id (wtpl-...)", &c.TemplateID},
		{"SMILEDASH_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", &c.LogLevel},
		{"SMILEDASH_DEBUG_ADDR", "debug-addr", "", "serve pprof profiles on this address (e.g. 127.0.0.1:6060)", &c.DebugAddr},
	}
	settings = append(settings, recon.settings()...)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	for _, s := range settings {
		value := s.def
		if v := getenv(s.env); v != "" {
			value = v
		}
		fs.StringVar(s.dst, s.flag, value, s.usage+" (env "+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(secrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.WebhookSecrets = append(c.WebhookSecrets, s)
		}
	}
	n, err := strconv.Atoi(maxBytes)
	if err != nil || n <= 0 {
		return Config{}, fmt.Errorf("SMILEDASH_WEBHOOK_MAX_BYTES must be a positive number of bytes, got %q", maxBytes)
	}
	c.WebhookMaxBytes = n
	if err := recon.apply(&c); err != nil {
		return Config{}, err
	}
	if c.WidgetScriptURL == "" {
		c.WidgetScriptURL = defaultWidgetScriptURL
		if c.Sandbox() {
			c.WidgetScriptURL = sandboxWidgetScriptPath
		}
	}
	return c, c.validate()
}

// validate refuses configurations that would run unsafely or not at all, with
// messages that say what to set.
func (c Config) validate() error {
	var errs []error
	if !c.Sandbox() {
		if len(c.WebhookSecrets) == 0 {
			errs = append(errs, errors.New("SMILEDASH_WEBHOOK_SECRETS is required when SMILE_API_KEY is set: "+
				"set it to the secret you register with Smile (webhooks are never accepted unverified)"))
		}
		if c.SmileAPISecret == "" {
			errs = append(errs, errors.New("SMILE_API_SECRET is required when SMILE_API_KEY is set"))
		}
	}
	for i, s := range c.WebhookSecrets {
		if len(s) > 64 {
			errs = append(errs, fmt.Errorf("webhook secret %d is %d characters; Smile accepts 1 to 64", i+1, len(s)))
		}
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SMILEDASH_PUBLIC_URL %q must be an absolute http(s) URL", c.PublicURL))
	}
	if u, err := url.Parse(c.SmileAPIBaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("SMILE_API_BASE_URL %q must be an absolute URL", c.SmileAPIBaseURL))
	}
	if _, err := handlers.ParseIPSet(c.WebhookAllowedIPs); err != nil {
		errs = append(errs, fmt.Errorf("SMILEDASH_WEBHOOK_ALLOWED_IPS: %w", err))
	}
	if _, err := handlers.ParseIPSet(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("SMILEDASH_TRUSTED_PROXIES: %w", err))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("SMILEDASH_LOG_LEVEL %q must be debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// webhookConfig turns the validated settings into what the receiver needs.
func (c Config) webhookConfig(secrets []string) handlers.WebhookConfig {
	allowed, _ := handlers.ParseIPSet(c.WebhookAllowedIPs)
	if c.Sandbox() {
		allowed = allowed.WithLoopback()
	}
	trusted, _ := handlers.ParseIPSet(c.TrustedProxies)
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = []byte(s)
	}
	return handlers.WebhookConfig{Secrets: keys, AllowedIPs: allowed, TrustedProxies: trusted, MaxBytes: c.WebhookMaxBytes}
}
