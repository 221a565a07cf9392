package models

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// IsUnavailable reports whether err means the database could not be locked
// or answer in time (SQLite busy or locked, a PostgreSQL lock or statement
// timeout, a cancelled or expired context) rather than that it refused the
// request: the HTTP layer answers 503 with Retry-After for these, since the
// same request may well succeed a moment later.
func IsUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// lock_not_available (lock_timeout), query_canceled, admin_shutdown.
		return pgErr.Code == "55P03" || pgErr.Code == "57014" || pgErr.Code == "57P01"
	}
	var liteErr sqlite3.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code == sqlite3.ErrBusy || liteErr.Code == sqlite3.ErrLocked
	}
	return false
}
