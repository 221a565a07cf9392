package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"smiledash/migrations"
)

// writerLockKey is the PostgreSQL advisory lock that serialises every
// replica's writer and rebuilds: projections are read-modify-write.
const writerLockKey = 7243

// lockWriter takes the writer's lock for tx, waiting no longer than ctx
// allows. On SQLite the single writer connection (and its busy timeout) is the
// lock, and BeginTx already waited for it within ctx.
func (s *Store) lockWriter(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != migrations.Postgres {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok {
		// lock_timeout makes the server give up the wait itself, leaving the
		// connection usable, rather than the client cancelling the query.
		wait := max(time.Until(deadline).Milliseconds(), 1)
		if _, err := tx.ExecContext(ctx, "SELECT set_config('lock_timeout', $1, true)", fmt.Sprintf("%dms", wait)); err != nil {
			return fmt.Errorf("models: ingest lock timeout: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", writerLockKey); err != nil {
		return fmt.Errorf("models: ingest lock: %w", err)
	}
	return nil
}

// isUnavailable reports whether err means the database could not be reached or
// locked in time, rather than that it refused this batch's content.
func isUnavailable(err error) bool {
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

// recordDeliveries writes the batch's duplicate and rejection records after
// its events, under a savepoint: a record the database refuses is rolled back
// alone and reported as lost, never failing the events. err is set only when
// the transaction itself is broken.
func (in *Ingester) recordDeliveries(ctx context.Context, tx *sql.Tx, st *txStatements, records []Rejection) (lost int, err error) {
	if len(records) == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT deliveries"); err != nil {
		return 0, fmt.Errorf("models: deliveries savepoint: %w", err)
	}
	writeErr := in.writeDeliveries(ctx, tx, st, records)
	if writeErr == nil {
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT deliveries"); err != nil {
			return 0, fmt.Errorf("models: release deliveries savepoint: %w", err)
		}
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT deliveries"); err != nil {
		return 0, fmt.Errorf("models: roll back delivery records: %w", errors.Join(writeErr, err))
	}
	in.log.Warn("Delivery records not stored", slog.Int("count", len(records)), slog.Any("error", writeErr))
	return len(records), nil
}

// writeDeliveries inserts the records and prunes the table now and then.
func (in *Ingester) writeDeliveries(ctx context.Context, tx *sql.Tx, st *txStatements, records []Rejection) error {
	for i := range records {
		records[i] = records[i].storable()
	}
	if in.store.dialect == migrations.Postgres {
		if err := insertRejectionsPostgres(ctx, tx, records); err != nil {
			return err
		}
	} else {
		for _, r := range records {
			if err := st.recordRejection(r); err != nil {
				return err
			}
		}
	}
	if in.sincePrune+len(records) < 1000 {
		in.sincePrune += len(records)
		return nil
	}
	if err := st.pruneDeliveries(in.opts.MaxDeliveries); err != nil {
		return err
	}
	in.sincePrune = 0
	return nil
}

func duplicateOf(in *Incoming) Rejection {
	return Rejection{
		ReceivedAt: in.ReceivedAt, SourceIP: in.SourceIP, Reason: ReasonDuplicate, Status: 200,
		EventID: in.Envelope.ID, EventType: string(in.Envelope.Type), BodyBytes: len(in.Body),
	}
}
