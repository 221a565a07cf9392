package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"smiledash/migrations"
)

// ingestStatements are the writer's hot-path statements, prepared once.
type ingestStatements struct {
	store          *Store
	insertEvent    *sql.Stmt
	bumpDeliveries *sql.Stmt
	insertDelivery *sql.Stmt
	insertUser     *sql.Stmt
	selectUserKey  *sql.Stmt
}

func (s *Store) prepareIngest(ctx context.Context) (*ingestStatements, error) {
	st := &ingestStatements{store: s}
	insertEvent := "INSERT INTO events (event_id, type, created_at, received_at, user_key, account_id, source_ip, secret_index, flags, body) " +
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING seq"
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.insertEvent, insertEvent},
		{&st.bumpDeliveries, "UPDATE events SET deliveries = deliveries + 1 WHERE event_id = ?"},
		{&st.insertDelivery, "INSERT INTO deliveries (received_at, source_ip, outcome, reason, status, event_id, event_type, body_bytes, excerpt) " +
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
		{&st.insertUser, "INSERT INTO smile_users (id) VALUES (?) ON CONFLICT (id) DO NOTHING RETURNING user_key"},
		{&st.selectUserKey, "SELECT user_key FROM smile_users WHERE id = ?"},
	} {
		stmt, err := s.writer.PrepareContext(ctx, s.rebind(p.query))
		if err != nil {
			st.close()
			return nil, fmt.Errorf("models: prepare %q: %w", p.query, err)
		}
		*p.dst = stmt
	}
	return st, nil
}

func (st *ingestStatements) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.insertEvent, st.bumpDeliveries, st.insertDelivery, st.insertUser, st.selectUserKey} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// txStatements binds the prepared statements to one transaction.
type txStatements struct {
	ctx                                                                        context.Context
	tx                                                                         *sql.Tx
	st                                                                         *ingestStatements
	insertEventStmt, bumpDeliveries, insertDelivery, insertUser, selectUserKey *sql.Stmt
}

func (st *ingestStatements) in(ctx context.Context, tx *sql.Tx) *txStatements {
	return &txStatements{
		ctx: ctx, tx: tx, st: st,
		insertEventStmt: tx.StmtContext(ctx, st.insertEvent),
		bumpDeliveries:  tx.StmtContext(ctx, st.bumpDeliveries),
		insertDelivery:  tx.StmtContext(ctx, st.insertDelivery),
		insertUser:      tx.StmtContext(ctx, st.insertUser),
		selectUserKey:   tx.StmtContext(ctx, st.selectUserKey),
	}
}

// insertEvent stores the event unless its id is already stored; inserted is false
// for a duplicate.
func (t *txStatements) insertEvent(in *Incoming, userKey int64) (seq int64, inserted bool, err error) {
	env := in.Envelope
	var user any
	if userKey != 0 {
		user = userKey
	}
	err = t.insertEventStmt.QueryRowContext(t.ctx,
		env.ID, string(env.Type), env.CreatedAt, in.ReceivedAt.UTC(), user, env.Data.Account(),
		in.SourceIP, in.SecretIndex, eventFlags(env, in.ReceivedAt), in.Body,
	).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("models: insert event %s: %w", env.ID, err)
	}
	return seq, true, nil
}

// countDuplicate counts another delivery of a stored event.
func (t *txStatements) countDuplicate(in *Incoming) error {
	if _, err := t.bumpDeliveries.ExecContext(t.ctx, in.Envelope.ID); err != nil {
		return fmt.Errorf("models: count duplicate %s: %w", in.Envelope.ID, err)
	}
	return nil
}

func (t *txStatements) recordRejection(r Rejection) error {
	outcome := OutcomeRejected
	if r.Reason == ReasonDuplicate {
		outcome = OutcomeDuplicate
	}
	_, err := t.insertDelivery.ExecContext(t.ctx,
		r.ReceivedAt.UTC(), r.SourceIP, outcome, r.Reason, r.Status, r.EventID, r.EventType, r.BodyBytes, r.Excerpt)
	if err != nil {
		return fmt.Errorf("models: record delivery: %w", err)
	}
	return nil
}

func (t *txStatements) ensureUser(smileID string) (int64, error) {
	var key int64
	err := t.insertUser.QueryRowContext(t.ctx, smileID).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("models: create user %s: %w", smileID, err)
	}
	if err := t.selectUserKey.QueryRowContext(t.ctx, smileID).Scan(&key); err != nil {
		return 0, fmt.Errorf("models: user key %s: %w", smileID, err)
	}
	return key, nil
}

// pruneDeliveries keeps only the newest max delivery records.
func (t *txStatements) pruneDeliveries(max int) error {
	q := "DELETE FROM deliveries WHERE id <= (SELECT id FROM deliveries ORDER BY id DESC LIMIT 1 OFFSET ?)"
	if t.st.store.dialect == migrations.Postgres {
		q = "DELETE FROM deliveries WHERE id <= (SELECT id FROM deliveries ORDER BY id DESC LIMIT 1 OFFSET $1)"
	}
	if _, err := t.tx.ExecContext(t.ctx, q, max); err != nil {
		return fmt.Errorf("models: prune deliveries: %w", err)
	}
	return nil
}

// insertBatchSQLite stores the batch's events with one prepared statement each:
// in process, a statement costs microseconds.
// Duplicates are counted on their event; their delivery records are returned
// for the caller to write with the batch's rejections.
func (in *Ingester) insertBatchSQLite(ctx context.Context, st *txStatements, batch []pending, newKeys map[string]int64) (
	results []Result, stored []CommittedEvent, events []ProjectedEvent, duplicates []Rejection, err error) {
	results = make([]Result, len(batch))
	for i, p := range batch {
		env := p.in.Envelope
		var userKey int64
		if subject := env.Data.Subject(); subject != "" {
			if userKey, err = in.userKey(ctx, st, subject, newKeys); err != nil {
				return nil, nil, nil, nil, err
			}
		}
		seq, inserted, err := st.insertEvent(p.in, userKey)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if !inserted {
			results[i] = Duplicate
			if err := st.countDuplicate(p.in); err != nil {
				return nil, nil, nil, nil, err
			}
			duplicates = append(duplicates, duplicateOf(p.in))
			continue
		}
		results[i] = Stored
		events = append(events, newProjectedEvent(env, userKey, eventFlags(env, p.in.ReceivedAt)))
		stored = append(stored, CommittedEvent{
			Seq: seq, EventID: env.ID, Type: string(env.Type), UserKey: userKey,
			AccountID: env.Data.Account(), CreatedAt: env.CreatedAt,
		})
	}
	return results, stored, events, duplicates, nil
}

func (in *Ingester) userKey(ctx context.Context, st *txStatements, smileID string, fresh map[string]int64) (int64, error) {
	if k, ok := in.userKeys[smileID]; ok {
		return k, nil
	}
	if k, ok := fresh[smileID]; ok {
		return k, nil
	}
	k, err := st.ensureUser(smileID)
	if err != nil {
		return 0, err
	}
	fresh[smileID] = k
	return k, nil
}
