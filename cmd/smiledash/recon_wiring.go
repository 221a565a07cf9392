package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"smiledash/handlers"
	"smiledash/models"
)

// reconSettings are the reconciliation settings as read, before parsing.
type reconSettings struct{ gapWindow, staleAfter, checkBudget string }

func (r *reconSettings) settings() []setting {
	return []setting{
		{"SMILEDASH_GAP_WINDOW", "gap-window", "10m", "how long a widget claim waits for its webhook before it is a gap", &r.gapWindow},
		{"SMILEDASH_STALE_AFTER", "stale-after", "7d", "an account whose datapoints are older than this is listed as stale", &r.staleAfter},
		{"SMILEDASH_CHECK_BUDGET", "check-budget", strconv.Itoa(models.DefaultCheckBudget), "checks with Smile the background sweep may make per hour; 0 turns it off", &r.checkBudget},
	}
}

// apply parses the settings into c.
func (r *reconSettings) apply(c *Config) error {
	var err error
	if c.GapWindow, err = parseAge(r.gapWindow); err != nil || c.GapWindow <= 0 {
		return fmt.Errorf("SMILEDASH_GAP_WINDOW must be a positive duration such as 10m, got %q", r.gapWindow)
	}
	if c.StaleAfter, err = parseAge(r.staleAfter); err != nil || c.StaleAfter <= 0 {
		return fmt.Errorf("SMILEDASH_STALE_AFTER must be a positive duration such as 7d or 36h, got %q", r.staleAfter)
	}
	if c.CheckBudget, err = strconv.Atoi(r.checkBudget); err != nil || c.CheckBudget < 0 {
		return fmt.Errorf("SMILEDASH_CHECK_BUDGET must be a number of checks per hour (0 turns the sweep off), got %q", r.checkBudget)
	}
	return nil
}

// parseAge is time.ParseDuration that also takes whole days ("7d").
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// reconDeps configures reconciliation: the gap window on the store, and the
// Smile client Check with Smile reads (the sandbox's fake API when no
// credentials are set).
func reconDeps(cfg Config, store *models.Store, api models.SmileReader) handlers.ReconDeps {
	store.SetGapWindow(cfg.GapWindow)
	return handlers.ReconDeps{StaleAfter: cfg.StaleAfter, Smile: api}
}

// startCheckSweep runs the background Check with Smile sweep until stop is
// called; stop waits for a check in flight to finish.
func startCheckSweep(ctx context.Context, cfg Config, store *models.Store, api models.SmileReader, log *slog.Logger) (stop func()) {
	if cfg.CheckBudget == 0 || api == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	sweep := &models.CheckSweep{Store: store, API: api, Budget: cfg.CheckBudget, Log: log.With(slog.String("component", "check_sweep"))}
	var wg sync.WaitGroup
	wg.Go(func() { sweep.Run(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}
