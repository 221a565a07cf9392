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
	"unicode/utf8"

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
	// WidgetHosts are https origins the connect page's CSP admits beyond
	// Smile's documented widget hosts (SMILE_WIDGET_HOSTS).
	WidgetHosts []string
	// Retention is how long raw bodies and delivery records are kept (retention.go).
	Retention retentionConfig
	// allowedIPsSet records that SMILEDASH_WEBHOOK_ALLOWED_IPS was given: only
	// the default list is widened with loopback in sandbox mode.
	allowedIPsSet bool
	// Reconciliation (recon_wiring.go).
	GapWindow   time.Duration
	StaleAfter  time.Duration
	CheckBudget int
	// LagWarn is how far behind the log the projector may fall before pages,
	// logs and /metrics say so loudly.
	LagWarn time.Duration
}

// Sandbox reports whether smiledash runs its built-in Smile simulator: it does
// whenever no Smile API key is configured.
func (c Config) Sandbox() bool { return c.SmileAPIKey == "" }

// DatabaseDSN is the PostgreSQL URL, or the SQLite file path: a bare path, or
// one written sqlite:path, sqlite://path or file:path (smiledash sets the
// SQLite options itself, so any ?query is dropped). A relative path is in the
// data dir. validate() refuses any other scheme.
func (c Config) DatabaseDSN() string {
	path := c.DatabaseURL
	switch databaseScheme(path) {
	case "postgres", "postgresql":
		return path
	case "sqlite", "file":
		path = path[strings.IndexByte(path, ':')+1:]
		if rest, ok := strings.CutPrefix(path, "//"); ok {
			path = rest
		}
		path, _, _ = strings.Cut(path, "?")
	}
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(c.DataDir, path)
}

// databaseScheme is the lowercased URL scheme of a database setting, or "" for
// a bare path (including a Windows drive letter).
func databaseScheme(s string) string {
	i := strings.IndexByte(s, ':')
	if i < 2 {
		return ""
	}
	for j, r := range s[:i] {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return ""
		}
	}
	return strings.ToLower(s[:i])
}

// Default values, as documented in the README's configuration table.
const (
	defaultSmileAPIBaseURL = "https://sandbox.smileapi.io/v1"
	defaultWidgetScriptURL = "https://web.smileapi.io/v2/smile.v2.js"
	// SandboxWidgetScriptPath is where the server serves its sandbox widget.
	sandboxWidgetScriptPath = "/static/js/sandbox-widget.js"
	smileWebhookIP          = "18.142.61.230"
	// The webhook body limit may be set between these: below 1 KiB not even a
	// small event fits; above 64 MiB one request could hold the server's memory.
	minWebhookMaxBytes = 1 << 10
	maxWebhookMaxBytes = 64 << 20
	// maxSecretChars is the longest secret Smile accepts.
	maxSecretChars = 64
)

type setting struct {
	env, flag, def, usage string
	dst                   *string
}

// loadConfig reads the environment through getenv, then the flags in args.
func loadConfig(args []string, getenv func(string) string) (Config, error) {
	return loadConfigFlags(flag.NewFlagSet("serve", flag.ContinueOnError), args, getenv)
}

// loadConfigFlags is loadConfig with the settings defined on fs, so a command's
// -h lists them where and how that command prints its help.
func loadConfigFlags(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	var c Config
	var secrets, maxBytes, widgetHosts, lagWarn string
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
		{"SMILE_WIDGET_HOSTS", "smile-widget-hosts", "", "comma-separated https origins the connect page also admits for Smile's widget", &widgetHosts},
		{"SMILEDASH_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", &c.LogLevel},
		{"SMILEDASH_DEBUG_ADDR", "debug-addr", "", "serve pprof profiles on this address (e.g. 127.0.0.1:6060)", &c.DebugAddr},
		{"SMILEDASH_PROJECTOR_LAG_WARN", "projector-lag-warn", "1m", "warn (pages, log) when the projections fall this far behind the event log", &lagWarn},
	}
	settings = append(settings, c.Retention.settings()...) // retention.go
	settings = append(settings, recon.settings()...)       // recon_wiring.go
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
	c.allowedIPsSet = getenv("SMILEDASH_WEBHOOK_ALLOWED_IPS") != ""
	fs.Visit(func(f *flag.Flag) { c.allowedIPsSet = c.allowedIPsSet || f.Name == "webhook-allowed-ips" })
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(secrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.WebhookSecrets = append(c.WebhookSecrets, s)
		}
	}
	hosts, err := parseWidgetHosts(widgetHosts)
	if err != nil {
		return Config{}, err
	}
	c.WidgetHosts = hosts
	n, err := strconv.Atoi(maxBytes)
	if err != nil || n < minWebhookMaxBytes || n > maxWebhookMaxBytes {
		return Config{}, fmt.Errorf("SMILEDASH_WEBHOOK_MAX_BYTES must be a number of bytes from %d (1 KiB) to %d (64 MiB), got %q",
			minWebhookMaxBytes, maxWebhookMaxBytes, maxBytes)
	}
	c.WebhookMaxBytes = n
	if err := c.Retention.parse(); err != nil {
		return Config{}, err
	}
	if err := recon.apply(&c); err != nil {
		return Config{}, err
	}
	if c.LagWarn, err = parseAge(lagWarn); err != nil || c.LagWarn <= 0 {
		return Config{}, fmt.Errorf("SMILEDASH_PROJECTOR_LAG_WARN must be a positive duration such as 1m, got %q", lagWarn)
	}
	if c.WidgetScriptURL == "" {
		c.WidgetScriptURL = defaultWidgetScriptURL
		if c.Sandbox() {
			c.WidgetScriptURL = sandboxWidgetScriptPath
		}
	}
	return c, c.validate()
}

// parseWidgetHosts reads SMILE_WIDGET_HOSTS: comma-separated https origins
// (scheme and host, optionally a port or a leading "*." wildcard label, no
// path) for hosts Smile's widget starts using after this release. Each is
// returned as scheme://host[:port], the form a CSP source takes.
func parseWidgetHosts(raw string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(raw, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		u, err := url.Parse(h)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
			strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Host, " ;,'") {
			return nil, fmt.Errorf("SMILE_WIDGET_HOSTS: %q is not an https origin like https://widget.example.com", h)
		}
		out = append(out, "https://"+strings.ToLower(u.Host))
	}
	return out, nil
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
		// Smile counts characters, not bytes: a secret of 64 non-ASCII characters is valid.
		if n := utf8.RuneCountInString(s); n > maxSecretChars || !utf8.ValidString(s) {
			errs = append(errs, fmt.Errorf("webhook secret %d is %d characters (or not valid UTF-8); Smile accepts 1 to %d", i+1, n, maxSecretChars))
		}
	}
	for _, u := range []struct{ name, value string }{
		{"SMILEDASH_PUBLIC_URL", c.PublicURL}, {"SMILE_API_BASE_URL", c.SmileAPIBaseURL}, {"SMILE_WIDGET_SCRIPT_URL", c.WidgetScriptURL},
	} {
		if u.name == "SMILE_WIDGET_SCRIPT_URL" && c.Sandbox() && u.value == sandboxWidgetScriptPath {
			continue // our own sandbox widget, served from /static
		}
		if !isHTTPURL(u.value) {
			errs = append(errs, fmt.Errorf("%s %q must be an absolute http(s) URL", u.name, u.value))
		}
	}
	switch scheme := databaseScheme(c.DatabaseURL); scheme {
	case "", "postgres", "postgresql", "sqlite", "file":
	default:
		errs = append(errs, fmt.Errorf("SMILEDASH_DATABASE_URL: %q databases are not supported; use postgres://... or a SQLite file path", scheme))
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

// isHTTPURL reports whether s is an absolute http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == ""
}

// webhookConfig turns the validated settings into what the receiver needs. In
// sandbox mode the default allowlist also admits loopback, where the simulator
// sends from; an allowlist that was set explicitly is taken as it is.
func (c Config) webhookConfig(secrets []string) handlers.WebhookConfig {
	allowed, _ := handlers.ParseIPSet(c.WebhookAllowedIPs)
	if c.Sandbox() && !c.allowedIPsSet {
		allowed = allowed.WithLoopback()
	}
	trusted, _ := handlers.ParseIPSet(c.TrustedProxies)
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = []byte(s)
	}
	return handlers.WebhookConfig{Secrets: keys, AllowedIPs: allowed, TrustedProxies: trusted, MaxBytes: c.WebhookMaxBytes}
}
