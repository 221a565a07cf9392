package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ActorSweep is the actor of checks the background sweep makes.
const ActorSweep = "check sweep"

// DefaultCheckBudget is how many checks the sweep may make per hour. Each
// check costs one or two Smile requests; Smile allows 20 per second for the
// whole tenant, shared with the connect pages.
const DefaultCheckBudget = 120

// CheckSweep checks open gaps with Smile in the background: each gap past
// the window that was never checked gets one check (of its account, or of its
// user when it names no account), oldest first, at most Budget per hour.
type CheckSweep struct {
	Store *Store
	API   SmileReader
	// Budget is the number of checks per rolling hour (≤ 0: DefaultCheckBudget).
	Budget int
	// Every is how often the sweep looks for gaps (default a minute).
	Every time.Duration
	Log   *slog.Logger
	Now   func() time.Time

	spent []time.Time // when each check of the last hour was made
}

// remaining is what is left of the budget at now.
func (w *CheckSweep) remaining(now time.Time) int {
	budget := w.Budget
	if budget <= 0 {
		budget = DefaultCheckBudget
	}
	kept := w.spent[:0]
	for _, t := range w.spent {
		if now.Sub(t) < time.Hour {
			kept = append(kept, t)
		}
	}
	w.spent = kept
	return max(budget-len(w.spent), 0)
}

// RunOnce checks as many unchecked open gaps as the budget allows and returns
// how many checks it made. A check Smile could not answer still counts (it
// cost a request) and is recorded with its error.
func (w *CheckSweep) RunOnce(ctx context.Context) (int, error) {
	now := w.now()
	left := w.remaining(now)
	if left == 0 {
		return 0, nil
	}
	var gaps []Gap
	cutoff := now.UTC().Add(-w.Store.GapWindow())
	err := w.Store.db.WithContext(ctx).Where("closed_at IS NULL AND claimed_at < ? AND checked_at IS NULL", cutoff).
		Order("claimed_at, id").Limit(left * 4).Find(&gaps).Error
	if err != nil {
		return 0, fmt.Errorf("models: gaps to check: %w", err)
	}
	done := map[string]bool{} // one check per account or user per run
	checks := 0
	for _, g := range gaps {
		target := "u:" + fmt.Sprint(g.UserKey)
		if g.AccountID != "" {
			target = "a:" + g.AccountID
		}
		if !done[target] {
			if checks == left {
				break
			}
			if err := w.check(ctx, g, now); err != nil {
				return checks, err
			}
			done[target] = true
			checks++
			w.spent = append(w.spent, now)
		}
		if err := w.Store.db.WithContext(ctx).Model(&Gap{}).Where("id = ?", g.ID).Update("checked_at", now.UTC()).Error; err != nil {
			return checks, fmt.Errorf("models: mark gap %d checked: %w", g.ID, err)
		}
	}
	return checks, nil
}

func (w *CheckSweep) check(ctx context.Context, g Gap, now time.Time) error {
	var err error
	if g.AccountID != "" {
		_, err = w.Store.CheckAccount(ctx, w.API, g.AccountID, ActorSweep, now)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return err
		}
		// Only the widget claimed the account; check its user instead.
	}
	var u SmileUser
	if err := w.Store.db.WithContext(ctx).Where("user_key = ?", g.UserKey).Take(&u).Error; err != nil {
		return fmt.Errorf("models: user of gap %d: %w", g.ID, err)
	}
	_, err = w.Store.CheckUser(ctx, w.API, u.ID, ActorSweep, now)
	return err
}

// Run sweeps every Every until ctx ends. Errors are logged, not fatal: the
// next round tries again.
func (w *CheckSweep) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log().Warn("Check sweep failed", slog.Any("error", err))
		} else if n > 0 {
			w.log().Info("Checked open gaps with Smile", slog.Int("checks", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *CheckSweep) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *CheckSweep) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}
