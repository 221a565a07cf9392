package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
)

func TestEnsureFirstAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	t.Run("sandbox generates one and prints it once", func(t *testing.T) {
		store := storetest.SQLite(t)
		var out bytes.Buffer
		cfg := Config{PublicURL: "http://localhost:8080"}
		deps, stop, err := adminDeps(ctx, cfg, auth.New(store), &out, log)
		if err != nil {
			t.Fatal(err)
		}
		stop()
		if !deps.Sandbox || deps.SecureCookies {
			t.Errorf("got %+v, want sandbox without Secure cookies on http", deps)
		}
		m := regexp.MustCompile(`password:\s+(\S+)`).FindStringSubmatch(out.String())
		if m == nil || !strings.Contains(out.String(), sandboxAdminEmail) {
			t.Fatalf("got output %q, want the sandbox email and password", out.String())
		}
		if _, err := auth.New(store).Authenticate(ctx, sandboxAdminEmail, m[1], time.Now()); err != nil {
			t.Fatalf("signing in with the printed password: %v", err)
		}
		out.Reset()
		if _, stop, err := adminDeps(ctx, cfg, auth.New(store), &out, log); err != nil || out.Len() != 0 {
			t.Fatalf("second start: got %v and output %q, want nothing new", err, out.String())
		} else {
			stop()
		}
	})
	t.Run("environment creates the first admin only", func(t *testing.T) {
		store := storetest.SQLite(t)
		var out bytes.Buffer
		cfg := Config{PublicURL: "https://dash.example.com", AdminEmail: "Ops@Example.com", AdminPassword: "a long enough password", SmileAPIKey: "k"}
		deps, stop, err := adminDeps(ctx, cfg, auth.New(store), &out, log)
		if err != nil {
			t.Fatal(err)
		}
		stop()
		if !deps.SecureCookies || deps.Sandbox {
			t.Errorf("got %+v, want Secure cookies behind https", deps)
		}
		if a, err := auth.New(store).Authenticate(ctx, "ops@example.com", "a long enough password", time.Now()); err != nil || a.Role != auth.RoleAdmin {
			t.Fatalf("got %+v, %v; want the configured admin", a, err)
		}
		if strings.Contains(out.String(), "password") {
			t.Errorf("got output %q, want the configured password never printed", out.String())
		}
	})
	t.Run("half configured", func(t *testing.T) {
		store := storetest.SQLite(t)
		_, _, err := adminDeps(ctx, Config{AdminEmail: "ops@example.com"}, auth.New(store), &bytes.Buffer{}, log)
		if err == nil || !strings.Contains(err.Error(), "SMILEDASH_ADMIN_PASSWORD") {
			t.Fatalf("got %v, want a message naming the missing variable", err)
		}
	})
	t.Run("weak configured password", func(t *testing.T) {
		store := storetest.SQLite(t)
		_, _, err := adminDeps(ctx, Config{AdminEmail: "ops@example.com", AdminPassword: "admin"}, auth.New(store), &bytes.Buffer{}, log)
		if !errors.Is(err, auth.ErrPasswordTooWeak) {
			t.Fatalf("got %v, want ErrPasswordTooWeak", err)
		}
	})
}

func TestAdminCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "SMILEDASH_DATA_DIR" {
			return dir
		}
		return ""
	}
	runCmd := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, strings.NewReader(stdin), &out, getenv)
		return out.String(), err
	}

	if out, err := runCmd("a password from stdin\n", "admin", "create", "--email", "Viewer@Example.com", "--role", "viewer"); err != nil {
		t.Fatalf("admin create: %v (%s)", err, out)
	}
	if _, err := runCmd("", "admin", "create", "--email", "x@example.com"); err == nil {
		t.Fatal("admin create without a password: got nil, want an error")
	}
	if _, err := runCmd("", "admin", "create", "--email", "viewer@example.com", "--password", "another long password"); !errors.Is(err, auth.ErrAdminExists) {
		t.Fatalf("duplicate: got %v, want ErrAdminExists", err)
	}
	out, err := runCmd("", "admin", "token", "create", "--name", "reporting")
	if err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(auth.APITokenPrefix + `\S+`).FindString(out)
	if token == "" {
		t.Fatalf("got %q, want the token printed", out)
	}
	if out, err := runCmd("", "admin", "token", "list"); err != nil || !strings.Contains(out, "reporting") || strings.Contains(out, token) {
		t.Fatalf("token list: got %q, %v; want the token listed without its secret", out, err)
	}

	store, err := models.Open(ctx, filepath.Join(dir, "smiledash.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if a, err := auth.New(store).Authenticate(ctx, "viewer@example.com", "a password from stdin", time.Now()); err != nil || a.Role != auth.RoleViewer {
		t.Fatalf("got %+v, %v; want the viewer created from stdin", a, err)
	}
	tok, err := auth.New(store).APITokenByToken(ctx, token, time.Now())
	if err != nil || tok.Role != auth.RoleViewer {
		t.Fatalf("got %+v, %v; want a viewer token", tok, err)
	}
	if _, err := runCmd("", "admin", "token", "revoke", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.New(store).APITokenByToken(ctx, token, time.Now()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("after revoke: got %v, want ErrNotFound", err)
	}
}
