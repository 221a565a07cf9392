package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
)

func incomingOf(body []byte) (*ingest.Incoming, error) {
	env, err := smile.ParseEnvelope(body)
	if err != nil {
		return nil, err
	}
	return &ingest.Incoming{Envelope: env, Body: body, SourceIP: "18.142.61.230", ReceivedAt: time.Now()}, nil
}

// TestUserErase erases through the CLI: a wrong typed id erases nothing,
// the right one (or --yes) erases, with revocation against the sandbox.
func TestUserErase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	getenv := envOf(map[string]string{"SMILEDASH_DATA_DIR": dir})
	store, err := models.Open(ctx, filepath.Join(dir, "smiledash.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	in, err := ingest.New(store).NewWriter(ingest.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := smiletest.Event("ACCOUNT_CONNECTED")
	inc, err := incomingOf(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Submit(ctx, inc); err != nil {
		t.Fatal(err)
	}
	_ = in.Close(ctx)
	userID := inc.Envelope.Data.Subject()
	store.Close()

	var out bytes.Buffer
	err = run(ctx, []string{"user", "erase", "--id", userID}, strings.NewReader("someone-else\n"), &out, getenv)
	if err == nil || !strings.Contains(err.Error(), "nothing was erased") {
		t.Fatalf("wrong typed id: got %v, want a refusal", err)
	}
	out.Reset()
	err = run(ctx, []string{"user", "erase", "--id", userID, "--revoke-at-smile"}, strings.NewReader(userID+"\n"), &out, getenv)
	if err != nil {
		t.Fatalf("erase: %v; output %s", err, out.String())
	}
	for _, want := range []string{ingest.ErasureKey(userID), "events: 1", "accounts revoked at Smile: 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
	err = run(ctx, []string{"user", "erase", "--id", userID, "--yes"}, strings.NewReader(""), &out, getenv)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("erasing again: got %v, want not found", err)
	}
	if err := run(ctx, []string{"user", "erase"}, nil, &out, getenv); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "Usage") {
		t.Errorf("no id: got %v, want the usage and exit status 2", err)
	}
	out.Reset()
	if err := run(ctx, []string{"user", "erase", "--help"}, nil, &out, getenv); err != nil || !strings.Contains(out.String(), "-revoke-at-smile") {
		t.Errorf("help: got %v and %q, want the flags", err, out.String())
	}
}
