package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
)

// sandboxAdminEmail is the admin created in sandbox mode when none is configured.
const sandboxAdminEmail = "admin@sandbox.local"

// adminDeps builds sign-in: the first admin (from SMILEDASH_ADMIN_EMAIL and
// _PASSWORD, or a generated sandbox admin printed once to stdout) and an hourly
// sweep of expired sessions, which stop ends.
func adminDeps(ctx context.Context, cfg Config, store *auth.Store, stdout io.Writer, log *slog.Logger) (deps handlers.AdminDeps, stop func(), err error) {
	deps = handlers.AdminDeps{
		Sandbox:       cfg.Sandbox(),
		SecureCookies: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://"),
		PublicURL:     cfg.PublicURL,
	}
	if err := ensureFirstAdmin(ctx, cfg, store, stdout, log); err != nil {
		return deps, func() {}, err
	}
	return deps, sweepSessions(store, log), nil
}

// ensureFirstAdmin creates the first admin when none exists. The sandbox
// password is written to stdout for the person starting the server and never
// logged.
func ensureFirstAdmin(ctx context.Context, cfg Config, store *auth.Store, stdout io.Writer, log *slog.Logger) error {
	switch {
	case cfg.AdminEmail != "" && cfg.AdminPassword != "":
		in := auth.NewAdmin{Email: cfg.AdminEmail, Password: cfg.AdminPassword, Role: auth.RoleAdmin}
		created, err := store.CreateFirstAdmin(ctx, in, time.Now())
		if err != nil {
			return fmt.Errorf("SMILEDASH_ADMIN_EMAIL and SMILEDASH_ADMIN_PASSWORD: %w", err)
		}
		if created {
			log.Info("Created the first admin", slog.String("email", auth.NormalizeEmail(cfg.AdminEmail)))
		}
		return nil
	case cfg.AdminEmail != "" || cfg.AdminPassword != "":
		return errors.New("set both SMILEDASH_ADMIN_EMAIL and SMILEDASH_ADMIN_PASSWORD to create the first admin, or neither")
	}
	n, err := store.AdminCount(ctx)
	if err != nil || n > 0 {
		return err
	}
	if !cfg.Sandbox() {
		log.Warn("No admin account exists: run `smiledash admin create --email E`, " +
			"or set SMILEDASH_ADMIN_EMAIL and SMILEDASH_ADMIN_PASSWORD")
		return nil
	}
	password, err := generatePassword()
	if err != nil {
		return err
	}
	in := auth.NewAdmin{Email: sandboxAdminEmail, Password: password, Role: auth.RoleAdmin}
	created, err := store.CreateFirstAdmin(ctx, in, time.Now())
	if err != nil || !created {
		return err
	}
	log.Info("Created the sandbox admin; its password is on standard output", slog.String("email", sandboxAdminEmail))
	fmt.Fprintf(stdout, "\nSandbox admin created. This password is shown once and not stored in plain text:\n"+
		"  sign in at: %s/login\n  email:      %s\n  password:   %s\n\n",
		strings.TrimRight(cfg.PublicURL, "/"), sandboxAdminEmail, password)
	return nil
}

// generatePassword returns 144 random bits as 24 URL-safe characters.
func generatePassword() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate sandbox admin password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// sweepSessions deletes expired sessions every hour (they are refused anyway;
// this keeps the table small) until the returned stop is called.
func sweepSessions(store *auth.Store, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Hour)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if n, err := store.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
					log.Warn("Deleting expired sessions failed", slog.Any("error", err))
				} else if n > 0 {
					log.Debug("Deleted expired sessions", slog.Int64("count", n))
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

const adminUsage = `Usage:
  smiledash admin create --email E [--role admin|viewer] [--password P]
      create an admin; without --password, the password is read from the
      first line of standard input (preferred: --password shows in ps)
  smiledash admin token create --name N [--role viewer|admin]
      create an API token for /api/v1 and print it once
  smiledash admin token list
  smiledash admin token revoke ID
`

// adminCommand is `smiledash admin create` and `smiledash admin token ...`.
func adminCommand(ctx context.Context, e env, args []string) error {
	switch {
	case len(args) >= 1 && isHelpArg(args[0]) || len(args) >= 2 && args[0] == "token" && isHelpArg(args[1]),
		len(args) >= 2 && args[0] == "token" && (args[1] == "list" || args[1] == "revoke") && helpRequested(args[2:]):
		fmt.Fprint(e.stdout, adminUsage)
		return nil
	case len(args) >= 1 && args[0] == "create":
		return createAdminCommand(ctx, e, args[1:])
	case len(args) >= 2 && args[0] == "token" && args[1] == "create":
		return createTokenCommand(ctx, e, args[2:])
	case len(args) >= 2 && args[0] == "token" && args[1] == "list":
		return listTokensCommand(ctx, e)
	case len(args) >= 2 && args[0] == "token" && args[1] == "revoke":
		return revokeTokenCommand(ctx, e, args[2:])
	}
	return usageErrorf("admin: unknown subcommand\n\n%s", adminUsage)
}

// openAdminStore opens the configured, migrated store for an admin command.
func openAdminStore(ctx context.Context, e env) (*models.Store, error) {
	cfg, err := loadConfig(nil, e.getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return openStore(ctx, cfg, newLogger(cfg.LogLevel))
}

func createAdminCommand(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "admin create", "admin create --email E [--role admin|viewer] [--password P]")
	email := fs.String("email", "", "email to sign in with (required)")
	role := fs.String("role", auth.RoleAdmin, "admin (everything) or viewer (read-only)")
	password := fs.String("password", "", "password (default: read from standard input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || fs.NArg() > 0 {
		return fmt.Errorf("admin create: --email is required and takes no arguments\n\n%s", adminUsage)
	}
	if *password == "" {
		p, err := readPassword(e)
		if err != nil {
			return err
		}
		*password = p
	}
	store, err := openAdminStore(ctx, e)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := auth.New(store).CreateAdmin(ctx, auth.NewAdmin{Email: *email, Password: *password, Role: *role}, time.Now())
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	fmt.Fprintf(e.stdout, "created %s %s\n", a.Role, a.Email)
	return nil
}

// readPassword reads the first line of standard input.
func readPassword(e env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(e.stdout, "Password (visible as you type; or pipe it in): ")
		}
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", errors.New("admin create: no password: pass --password or write it on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func createTokenCommand(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "admin token create", "admin token create --name N [--role viewer|admin]")
	name := fs.String("name", "", "what the token is for, e.g. reporting (required)")
	role := fs.String("role", auth.RoleViewer, "viewer (read-only) or admin (may also change things)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() > 0 {
		return fmt.Errorf("admin token create: --name is required and takes no arguments\n\n%s", adminUsage)
	}
	store, err := openAdminStore(ctx, e)
	if err != nil {
		return err
	}
	defer store.Close()
	plain, tok, err := auth.New(store).CreateAPIToken(ctx, auth.NewAPIToken{Name: *name, Role: *role}, time.Now())
	if err != nil {
		return fmt.Errorf("admin token create: %w", err)
	}
	fmt.Fprintf(e.stdout, "created %s API token %d %q. Copy it now; it is not shown again:\n%s\n", tok.Role, tok.ID, tok.Name, plain)
	return nil
}

func listTokensCommand(ctx context.Context, e env) error {
	store, err := openAdminStore(ctx, e)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := auth.New(store).APITokens(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tROLE\tPREFIX\tCREATED\tLAST USED\tREVOKED")
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range list {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Prefix,
			t.CreatedAt.UTC().Format(time.RFC3339), stamp(t.LastUsedAt), stamp(t.RevokedAt))
	}
	return w.Flush()
}

func revokeTokenCommand(ctx context.Context, e env, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("admin token revoke: give the token's ID (see admin token list)\n\n%s", adminUsage)
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("admin token revoke: %q is not a token ID", args[0])
	}
	store, err := openAdminStore(ctx, e)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := auth.New(store).RevokeAPIToken(ctx, id, time.Now()); err != nil {
		return fmt.Errorf("admin token revoke: %w", err)
	}
	fmt.Fprintf(e.stdout, "revoked API token %d\n", id)
	return nil
}
