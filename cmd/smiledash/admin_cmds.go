package main

import (
	"context"
	"fmt"
	"smiledash/models/ingest"
	"strings"
	"text/tabwriter"
)

// migrate applies (up, the default) or lists (status) the database migrations.
func migrate(ctx context.Context, e env, args []string) error {
	sub := "up"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if sub != "up" && sub != "status" {
		return usageErrorf("migrate: unknown subcommand %q (want up or status)", sub)
	}
	cfg, err := loadConfigFlags(newFlagSet(e, "migrate", "migrate [up|status] [flags]"), args, e.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	store, err := openStoreNoMigrate(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	m, err := store.Migrator()
	if err != nil {
		return err
	}
	switch sub {
	case "up":
		n, err := m.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "applied %d migration(s)\n", n)
		return nil
	case "status":
		list, err := m.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tFILE")
		for _, s := range list {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, state, s.Name)
		}
		return w.Flush()
	}
	return nil
}

// reproject rebuilds every projection from the event log.
func reproject(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "reproject", "reproject")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(nil, e.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	store, err := openStore(ctx, cfg, newLogger(cfg.LogLevel))
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := ingest.New(store).Reproject(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rebuilt projections from %d event(s)\n", n)
	return nil
}
