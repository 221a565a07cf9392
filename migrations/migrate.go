// Package migrations owns the database schema: numbered SQL files per dialect,
// embedded in the binary and applied with goose. It never imports models, so the
// history stays frozen as the code moves on.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// TableName is where applied versions are recorded.
const TableName = "schema_migrations"

// Dialect selects the SQL flavour of the migration files.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Migrator applies and reports migrations for one database.
type Migrator struct {
	provider *goose.Provider
}

// New returns a Migrator for db. On PostgreSQL it takes a session lock so that
// replicas starting together apply each migration once.
func New(db *sql.DB, dialect Dialect) (*Migrator, error) {
	var (
		gooseDialect database.Dialect
		opts         []goose.ProviderOption
	)
	switch dialect {
	case SQLite:
		gooseDialect = database.DialectSQLite3
	case Postgres:
		gooseDialect = database.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migrations: postgres locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	store, err := database.NewStore(gooseDialect, TableName)
	if err != nil {
		return nil, fmt.Errorf("migrations: store: %w", err)
	}
	sub, err := fs.Sub(files, string(dialect))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	opts = append(opts, goose.WithStore(store))
	p, err := goose.NewProvider("", db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{provider: p}, nil
}

// Up applies every pending migration, each in its own transaction, and returns
// how many it applied.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	results, err := m.provider.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrations: up: %w", err)
	}
	return len(results), nil
}

// Pending reports whether migrations remain to be applied (readiness uses it).
func (m *Migrator) Pending(ctx context.Context) (bool, error) {
	pending, err := m.provider.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("migrations: pending: %w", err)
	}
	return pending, nil
}

// Status is one migration's state.
type Status struct {
	Version int64
	Name    string
	Applied bool
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	list, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	out := make([]Status, 0, len(list))
	for _, s := range list {
		out = append(out, Status{
			Version: s.Source.Version,
			Name:    s.Source.Path,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}
