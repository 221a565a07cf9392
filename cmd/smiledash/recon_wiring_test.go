package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smiledash/models"
)

func TestLoadConfig_Reconciliation(t *testing.T) {
	cfg, err := loadConfig(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GapWindow != 10*time.Minute || cfg.StaleAfter != 7*24*time.Hour || cfg.CheckBudget != models.DefaultCheckBudget {
		t.Errorf("got window %s, stale after %s, budget %d; want the defaults", cfg.GapWindow, cfg.StaleAfter, cfg.CheckBudget)
	}
	cfg, err = loadConfig([]string{"--stale-after", "36h"}, envOf(map[string]string{"SMILEDASH_GAP_WINDOW": "90s", "SMILEDASH_CHECK_BUDGET": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GapWindow != 90*time.Second || cfg.StaleAfter != 36*time.Hour || cfg.CheckBudget != 0 {
		t.Errorf("got %s, %s, %d", cfg.GapWindow, cfg.StaleAfter, cfg.CheckBudget)
	}
	for env, value := range map[string]string{"SMILEDASH_GAP_WINDOW": "soon", "SMILEDASH_STALE_AFTER": "-1d", "SMILEDASH_CHECK_BUDGET": "-3"} {
		if _, err := loadConfig(nil, envOf(map[string]string{env: value})); err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%s: got %v, want an error naming it", env, value, err)
		}
	}
}

func TestCheckSweep_StopsCleanly(t *testing.T) {
	ctx := context.Background()
	store, err := models.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := Config{CheckBudget: 5}
	stop := startCheckSweep(ctx, cfg, store, fakeReader{}, slog.New(slog.DiscardHandler))
	stop() // returns once the sweep goroutine has ended
	stop() // and is safe to call again at shutdown
	if noop := startCheckSweep(ctx, Config{CheckBudget: 0}, store, fakeReader{}, slog.New(slog.DiscardHandler)); noop == nil {
		t.Error("got nil stop for a disabled sweep")
	}
}

type fakeReader struct{ models.SmileReader }
