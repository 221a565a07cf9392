package main

import (
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig_Defaults(t *testing.T) {
	cfg, err := loadConfig(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Sandbox() || cfg.Addr != ":8080" || cfg.WebhookMaxBytes != 10<<20 || cfg.WebhookAllowedIPs != smileWebhookIP {
		t.Errorf("got %+v", cfg)
	}
	if cfg.WidgetScriptURL != sandboxWidgetScriptPath {
		t.Errorf("got widget script %q in sandbox mode, want the sandbox one", cfg.WidgetScriptURL)
	}
	if got := cfg.DatabaseDSN(); got != "data/smiledash.db" {
		t.Errorf("got DSN %q, want data/smiledash.db", got)
	}
	wh := cfg.webhookConfig([]string{"s"})
	if !wh.AllowedIPs.Contains("127.0.0.1") || !wh.AllowedIPs.Contains(smileWebhookIP) {
		t.Errorf("sandbox allowlist %v lacks loopback or Smile", wh.AllowedIPs)
	}
}

func TestLoadConfig_FlagsOverrideEnvironment(t *testing.T) {
	cfg, err := loadConfig([]string{"--addr", "127.0.0.1:9000", "--webhook-secrets", "a, b"},
		envOf(map[string]string{"SMILEDASH_ADDR": ":7000", "SMILEDASH_DATABASE_URL": "postgres://u@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || len(cfg.WebhookSecrets) != 2 || cfg.WebhookSecrets[1] != "b" {
		t.Errorf("got %+v", cfg)
	}
	if cfg.DatabaseDSN() != "postgres://u@h/db" {
		t.Errorf("got DSN %q", cfg.DatabaseDSN())
	}
}

func TestLoadConfig_Refuses(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"production without webhook secret", map[string]string{"SMILE_API_KEY": "k", "SMILE_API_SECRET": "s"}, "SMILEDASH_WEBHOOK_SECRETS is required"},
		{"key without secret", map[string]string{"SMILE_API_KEY": "k", "SMILEDASH_WEBHOOK_SECRETS": "w"}, "SMILE_API_SECRET is required"},
		{"secret too long", map[string]string{"SMILEDASH_WEBHOOK_SECRETS": strings.Repeat("x", 65)}, "1 to 64"},
		{"bad allowlist", map[string]string{"SMILEDASH_WEBHOOK_ALLOWED_IPS": "18.142.61.230,nope"}, "SMILEDASH_WEBHOOK_ALLOWED_IPS"},
		{"bad proxies", map[string]string{"SMILEDASH_TRUSTED_PROXIES": "10.0.0.0/33"}, "SMILEDASH_TRUSTED_PROXIES"},
		{"relative public URL", map[string]string{"SMILEDASH_PUBLIC_URL": "example.com"}, "SMILEDASH_PUBLIC_URL"},
		{"bad body limit", map[string]string{"SMILEDASH_WEBHOOK_MAX_BYTES": "-1"}, "SMILEDASH_WEBHOOK_MAX_BYTES"},
		{"body limit below 1 KiB", map[string]string{"SMILEDASH_WEBHOOK_MAX_BYTES": "1023"}, "SMILEDASH_WEBHOOK_MAX_BYTES"},
		{"body limit above 64 MiB", map[string]string{"SMILEDASH_WEBHOOK_MAX_BYTES": "67108865"}, "SMILEDASH_WEBHOOK_MAX_BYTES"},
		{"absurd body limit", map[string]string{"SMILEDASH_WEBHOOK_MAX_BYTES": "99999999999999999999"}, "SMILEDASH_WEBHOOK_MAX_BYTES"},
		{"65 characters of three bytes each", map[string]string{"SMILEDASH_WEBHOOK_SECRETS": strings.Repeat("€", 65)}, "1 to 64"},
		{"secret not UTF-8", map[string]string{"SMILEDASH_WEBHOOK_SECRETS": "ab\xffcd"}, "1 to 64"},
		{"mysql database", map[string]string{"SMILEDASH_DATABASE_URL": "mysql://u:p@db/smiledash"}, "SMILEDASH_DATABASE_URL"},
		{"sqlserver database", map[string]string{"SMILEDASH_DATABASE_URL": "sqlserver://db"}, "SMILEDASH_DATABASE_URL"},
		{"javascript widget script", map[string]string{"SMILE_WIDGET_SCRIPT_URL": "javascript:alert(1)"}, "SMILE_WIDGET_SCRIPT_URL"},
		{"data widget script", map[string]string{"SMILE_WIDGET_SCRIPT_URL": "data:text/javascript,alert(1)"}, "SMILE_WIDGET_SCRIPT_URL"},
		{"relative widget script", map[string]string{"SMILE_WIDGET_SCRIPT_URL": "/static/js/other.js"}, "SMILE_WIDGET_SCRIPT_URL"},
		{"sandbox widget outside sandbox", map[string]string{"SMILE_API_KEY": "k", "SMILE_API_SECRET": "s", "SMILEDASH_WEBHOOK_SECRETS": "w",
			"SMILE_WIDGET_SCRIPT_URL": "/static/js/sandbox-widget.js"}, "SMILE_WIDGET_SCRIPT_URL"},
		{"ftp API base", map[string]string{"SMILE_API_BASE_URL": "ftp://smile.example/v1"}, "SMILE_API_BASE_URL"},
		{"javascript API base", map[string]string{"SMILE_API_BASE_URL": "javascript:alert(1)"}, "SMILE_API_BASE_URL"},
		{"API base without host", map[string]string{"SMILE_API_BASE_URL": "https:///v1"}, "SMILE_API_BASE_URL"},
		{"bad log level", map[string]string{"SMILEDASH_LOG_LEVEL": "loud"}, "SMILEDASH_LOG_LEVEL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(nil, envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestLoadConfig_Accepts(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		ok   func(Config) bool
	}{
		{"64 characters of three bytes each", map[string]string{"SMILEDASH_WEBHOOK_SECRETS": strings.Repeat("€", 64)},
			func(c Config) bool { return len(c.WebhookSecrets) == 1 }},
		{"body limit of 1 KiB", map[string]string{"SMILEDASH_WEBHOOK_MAX_BYTES": "1024"}, func(c Config) bool { return c.WebhookMaxBytes == 1024 }},
		{"body limit of 64 MiB", map[string]string{"SMILEDASH_WEBHOOK_MAX_BYTES": "67108864"}, func(c Config) bool { return c.WebhookMaxBytes == 64<<20 }},
		{"http widget script", map[string]string{"SMILE_WIDGET_SCRIPT_URL": "http://localhost:9000/w.js"}, nil},
		{"postgresql scheme", map[string]string{"SMILEDASH_DATABASE_URL": "postgresql://u@h/db"},
			func(c Config) bool { return c.DatabaseDSN() == "postgresql://u@h/db" }},
		{"bare relative path", map[string]string{"SMILEDASH_DATABASE_URL": "other.db"},
			func(c Config) bool { return c.DatabaseDSN() == "data/other.db" }},
		{"bare absolute path", map[string]string{"SMILEDASH_DATABASE_URL": "/var/lib/smiledash/s.db"},
			func(c Config) bool { return c.DatabaseDSN() == "/var/lib/smiledash/s.db" }},
		{"sqlite URL, absolute", map[string]string{"SMILEDASH_DATABASE_URL": "sqlite:///var/lib/s.db"},
			func(c Config) bool { return c.DatabaseDSN() == "/var/lib/s.db" }},
		{"sqlite: relative", map[string]string{"SMILEDASH_DATABASE_URL": "sqlite:s.db"},
			func(c Config) bool { return c.DatabaseDSN() == "data/s.db" }},
		{"file: with options", map[string]string{"SMILEDASH_DATABASE_URL": "file:s.db?mode=rwc"},
			func(c Config) bool { return c.DatabaseDSN() == "data/s.db" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(nil, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ok != nil && !tc.ok(cfg) {
				t.Errorf("got %+v (DSN %q)", cfg, cfg.DatabaseDSN())
			}
		})
	}
}

// TestLoadConfig_SandboxAllowlist: sandbox mode widens only the default
// allowlist with loopback (the simulator sends from there); a list set
// explicitly, by environment or flag, is taken as it is.
func TestLoadConfig_SandboxAllowlist(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		env          map[string]string
		wantLoopback bool
	}{
		{"default, sandbox", nil, nil, true},
		{"explicit by environment, sandbox", nil, map[string]string{"SMILEDASH_WEBHOOK_ALLOWED_IPS": "203.0.113.7"}, false},
		{"explicit by flag, sandbox", []string{"--webhook-allowed-ips", "203.0.113.7"}, nil, false},
		{"explicit default, sandbox", nil, map[string]string{"SMILEDASH_WEBHOOK_ALLOWED_IPS": smileWebhookIP}, false},
		{"default, production", nil, map[string]string{"SMILE_API_KEY": "k", "SMILE_API_SECRET": "s", "SMILEDASH_WEBHOOK_SECRETS": "w"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(tc.args, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.webhookConfig([]string{"s"}).AllowedIPs.Contains("127.0.0.1"); got != tc.wantLoopback {
				t.Errorf("loopback allowed: got %v, want %v", got, tc.wantLoopback)
			}
		})
	}
}
