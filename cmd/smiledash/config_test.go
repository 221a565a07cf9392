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
