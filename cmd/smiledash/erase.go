package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"smiledash/models/ingest"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
)

const userEraseUsage = "Usage: smiledash user erase --id SMILE_USER_ID [--revoke-at-smile] [--yes]"

// userCommand runs `smiledash user erase`.
func userCommand(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && isHelpArg(args[0]) {
		fmt.Fprintln(e.stdout, userEraseUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "erase" {
		return usageErrorf("user: want a subcommand\n%s", userEraseUsage)
	}
	fs := newFlagSet(e, "user erase", "user erase --id SMILE_USER_ID [--revoke-at-smile] [--yes]")
	id := fs.String("id", "", "the Smile user id to erase (required)")
	revoke := fs.Bool("revoke-at-smile", false, "first delete the user's accounts at Smile; if Smile refuses, nothing is erased")
	yes := fs.Bool("yes", false, "do not ask to type the id again")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || strings.TrimSpace(*id) == "" {
		return usageErrorf("user erase: --id is required and nothing else\n%s", userEraseUsage)
	}
	cfg, err := loadConfig(nil, e.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if !*yes {
		fmt.Fprintf(e.stdout, "Everything stored about Smile user %s will be deleted for good.\nType the user id to confirm: ", *id)
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimRight(line, "\r\n") != *id {
			return errors.New("user erase: the id typed does not match; nothing was erased")
		}
	}
	store, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	req := ingest.EraseRequest{SmileUserID: *id, Actor: "cli", Now: time.Now()}
	if *revoke {
		if req.Revoker, err = eraseSmileClient(cfg); err != nil {
			return err
		}
	}
	report, err := ingest.New(store).EraseUser(ctx, req)
	if err != nil {
		return fmt.Errorf("user erase: %w", err)
	}
	fmt.Fprintf(e.stdout, "erased; the audit log records it as %s\n", report.UserKey)
	if *revoke {
		fmt.Fprintf(e.stdout, "  accounts revoked at Smile: %d\n", report.RevokedAtSmile)
	}
	tables := make([]string, 0, len(report.Removed))
	for t := range report.Removed {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		fmt.Fprintf(e.stdout, "  %s: %d\n", t, report.Removed[t])
	}
	return nil
}

// eraseSmileClient is the Smile client accounts are revoked with: Smile's, or
// in sandbox mode an in-process fake API (which knows no accounts).
func eraseSmileClient(cfg Config) (*smile.Client, error) {
	if !cfg.Sandbox() {
		return smile.NewClient(smile.ClientConfig{BaseURL: cfg.SmileAPIBaseURL, APIKey: cfg.SmileAPIKey, APISecret: cfg.SmileAPISecret})
	}
	return smile.NewClient(smile.ClientConfig{
		BaseURL: sandboxBaseURL, APIKey: "sandbox", APISecret: "sandbox",
		HTTPClient:        &http.Client{Transport: fakeapi.Transport(fakeapi.New(fakeapi.Options{})), Timeout: 10 * time.Second},
		RequestsPerSecond: -1,
	})
}
