package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"

	"smiledash/smile/simulate"
)

// simulateCommand sends realistic signed webhook sequences to a running smiledash (or
// anything else), as Smile would, and reports acknowledged events/s and latency.
// It is also the load generator of the ingest benchmark.
func simulateCommand(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "simulate", "simulate --url U --secret S [flags]")
	var cfg simulate.Config
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080/webhooks/smile", "webhook URL to send to")
	fs.StringVar(&cfg.Secret, "secret", e.getenv("SMILEDASH_WEBHOOK_SECRET"), "webhook secret to sign with (the receiver's current secret)")
	fs.IntVar(&cfg.Users, "users", 100, "users to simulate (each sends a whole account history); with --random, the pool to pick from")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "concurrent connections")
	fs.Float64Var(&cfg.Duplicates, "duplicates", 0, "fraction of events sent twice, as Smile's retries would")
	fs.DurationVar(&cfg.Duration, "duration", 0, "keep simulating new users until this much time has passed (overrides -users as a bound)")
	fs.StringVar(&cfg.Tenant, "tenant", simulate.DefaultTenant, "tenant prefix of generated user ids")
	fs.DurationVar(&cfg.Window, "window", simulate.DefaultWindow, "spread the users' sign-ups over this much time before now; no event is dated after now")
	fs.BoolVar(&cfg.Realtime, "realtime", false, "send each event when its time comes, from now on, instead of dating them in the window")
	fs.BoolVar(&cfg.Random, "random", false, "load mode: one new event per request (INCOMES_ADDED, EMPLOYMENTS_ADDED, ACCOUNT_CONNECTED, TASK_FINISHED) for a user picked at random among --users; needs --duration or --events")
	fs.IntVar(&cfg.Events, "events", 0, "with --random: stop after this many events")
	seed := fs.Uint64("seed", 0, "random seed; 0 picks a new one, so reruns send new events")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Secret == "" {
		return fmt.Errorf("simulate: --secret is required (the receiver prints its sandbox secret at start)")
	}
	cfg.Seed = *seed
	if cfg.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.Seed = binary.LittleEndian.Uint64(b[:])
	}
	report, err := simulate.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := report.JSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(b))
	} else {
		fmt.Fprintln(e.stdout, report.String())
	}
	if report.Failed() > 0 {
		return fmt.Errorf("simulate: %d of %d events were not acknowledged", report.Failed(), report.Sent)
	}
	return nil
}
