package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestLoadConfig_WidgetHosts(t *testing.T) {
	cfg, err := loadConfig(nil, envOf(map[string]string{"SMILE_WIDGET_HOSTS": " https://CDN.smile.example , https://*.smileapi.io/,https://w.example:8443"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://cdn.smile.example", "https://*.smileapi.io", "https://w.example:8443"}
	if !slices.Equal(cfg.WidgetHosts, want) {
		t.Errorf("got %q, want %q", cfg.WidgetHosts, want)
	}
	if cfg, err := loadConfig(nil, envOf(nil)); err != nil || cfg.WidgetHosts != nil {
		t.Errorf("unset: got %q, %v; want none", cfg.WidgetHosts, err)
	}
	for _, bad := range []string{
		"http://cdn.smile.example",           // not https
		"cdn.smile.example",                  // no scheme
		"https://cdn.smile.example/v2/x.js",  // a URL, not an origin
		"https://cdn.smile.example?x=1",      // a query
		"https://user@cdn.smile.example",     // credentials
		"https://a.example 'unsafe-eval'",    // would smuggle a CSP keyword
		"https://a.example;script-src *",     // would end the directive
		"https://ok.example,ftp://x.example", // one bad entry spoils the list
	} {
		_, err := loadConfig([]string{"--smile-widget-hosts", bad}, envOf(nil))
		if err == nil || !strings.Contains(err.Error(), "SMILE_WIDGET_HOSTS") {
			t.Errorf("%q: got %v, want a SMILE_WIDGET_HOSTS error", bad, err)
		}
	}
}

func TestConnectDeps_PassesWidgetHosts(t *testing.T) {
	cfg, err := loadConfig(nil, envOf(map[string]string{"SMILE_API_KEY": "k", "SMILE_API_SECRET": "s",
		"SMILEDASH_WEBHOOK_SECRETS": "w", "SMILE_WIDGET_HOSTS": "https://cdn.smile.example"}))
	if err != nil {
		t.Fatal(err)
	}
	deps, stop, err := connectDeps(context.Background(), cfg, nil, cfg.WebhookSecrets, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !slices.Equal(deps.WidgetHosts, []string{"https://cdn.smile.example"}) {
		t.Errorf("got widget hosts %q, want the configured one", deps.WidgetHosts)
	}
}
