package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestRun_Help checks every way of asking for help prints it and succeeds,
// without running the command: no database is opened, no server starts.
func TestRun_Help(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "SMILEDASH_DATA_DIR" {
			return dir + "/missing/never-created"
		}
		return ""
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Commands:", "simulate", "admin token"}},
		{[]string{"-h"}, []string{"Commands:"}},
		{[]string{"help"}, []string{"Commands:"}},
		{[]string{"serve", "--help"}, []string{"Usage: smiledash serve", "-addr", "SMILEDASH_ADDR", "-public-url"}},
		{[]string{"--addr", ":1", "--help"}, []string{"Usage: smiledash serve", "-webhook-secrets"}},
		{[]string{"help", "serve"}, []string{"Usage: smiledash serve", "-addr"}},
		{[]string{"migrate", "--help"}, []string{"Usage: smiledash migrate", "-database-url"}},
		{[]string{"migrate", "status", "-h"}, []string{"Usage: smiledash migrate"}},
		{[]string{"reproject", "--help"}, []string{"Usage: smiledash reproject"}},
		{[]string{"simulate", "--help"}, []string{"Usage: smiledash simulate", "-concurrency", "-duplicates"}},
		{[]string{"help", "simulate"}, []string{"-concurrency"}},
		{[]string{"admin", "--help"}, []string{"admin create", "admin token create"}},
		{[]string{"admin", "create", "--help"}, []string{"Usage: smiledash admin create", "-email", "-role"}},
		{[]string{"admin", "token", "--help"}, []string{"admin token revoke"}},
		{[]string{"admin", "token", "create", "-h"}, []string{"-name"}},
		{[]string{"admin", "token", "list", "--help"}, []string{"admin token list"}},
		{[]string{"admin", "token", "revoke", "--help"}, []string{"admin token revoke"}},
		{[]string{"link", "--help"}, []string{"link create --ref"}},
		{[]string{"link", "create", "--help"}, []string{"Usage: smiledash link create", "-ref", "-expires"}},
		{[]string{"healthcheck", "--help"}, []string{"-url"}},
		{[]string{"bare-receiver", "--help"}, []string{"-addr"}},
		{[]string{"version", "--help"}, []string{"Usage: smiledash version"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(""), &out, getenv)
			if err != nil {
				t.Fatalf("got error %v, want help and success", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("got %q, want it to contain %q", out.String(), w)
				}
			}
			if strings.Contains(out.String(), "help requested") {
				t.Errorf("got %q, want no error text", out.String())
			}
		})
	}
}

// TestRun_UnknownCommand checks an unknown command or subcommand prints the
// usage and exits 2, like a bad flag.
func TestRun_UnknownCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"frobnicate"}, {"admin", "bogus"}, {"migrate", "sideways"}, {"link", "list"}} {
		err := run(context.Background(), args, strings.NewReader(""), &bytes.Buffer{}, func(string) string { return "" })
		var u *usageError
		if !errors.As(err, &u) || exitCode(err) != 2 {
			t.Errorf("%v: got %v (exit %d), want a usage error, exit 2", args, err, exitCode(err))
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, nil, &bytes.Buffer{}, nil); !strings.Contains(err.Error(), "Commands:") {
		t.Errorf("got %q, want the command list", err)
	}
	if got := exitCode(errors.New("database down")); got != 1 {
		t.Errorf("other failures: got exit %d, want 1", got)
	}
}
