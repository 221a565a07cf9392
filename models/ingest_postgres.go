package models

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// On PostgreSQL every statement is a network round trip, so the writer sends
// each batch as a few set-based statements (arrays unnested server-side)
// instead of a statement per event; SQLite, in process, keeps its prepared
// per-row statements.

// insertBatchPostgres resolves user keys, stores new events and counts
// duplicates for a whole batch in a handful of statements. The duplicates'
// delivery records are returned for the caller to write with the rejections.
func (in *Ingester) insertBatchPostgres(ctx context.Context, tx *sql.Tx, batch []pending, newKeys map[string]int64) (
	results []Result, stored []CommittedEvent, events []ProjectedEvent, dupRejections []Rejection, err error) {
	if err := in.userKeysPostgres(ctx, tx, batch, newKeys); err != nil {
		return nil, nil, nil, nil, err
	}
	keyOf := func(env *Incoming) int64 {
		subject := env.Envelope.Data.Subject()
		if subject == "" {
			return 0
		}
		if k, ok := in.userKeys[subject]; ok {
			return k
		}
		return newKeys[subject]
	}
	n := len(batch)
	ids, types, accounts, sources := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	created, received := make([]time.Time, n), make([]time.Time, n)
	users, secrets, bodies, flags := make([]*int64, n), make([]int64, n), make([][]byte, n), make([]string, n)
	for i, p := range batch {
		env := p.in.Envelope
		ids[i], types[i], accounts[i], sources[i] = env.ID, string(env.Type), env.Data.Account(), p.in.SourceIP
		created[i], received[i] = env.CreatedAt, p.in.ReceivedAt.UTC()
		if k := keyOf(p.in); k != 0 {
			users[i] = &k
		}
		secrets[i], bodies[i], flags[i] = int64(p.in.SecretIndex), p.in.Body, eventFlags(env, p.in.ReceivedAt)
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO events (event_id, type, created_at, received_at, user_key, account_id, source_ip, secret_index, body, flags)
		SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], $9::bytea[], $10::text[])
		ON CONFLICT (event_id) DO NOTHING RETURNING seq, event_id`,
		ids, types, created, received, users, accounts, sources, secrets, bodies, flags)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("models: insert events: %w", err)
	}
	seqs := map[string]int64{}
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			rows.Close()
			return nil, nil, nil, nil, fmt.Errorf("models: insert events: %w", err)
		}
		seqs[id] = seq
	}
	if err := rows.Close(); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("models: insert events: %w", err)
	}
	results = make([]Result, n)
	dups := map[string]int64{}
	for i, p := range batch {
		env := p.in.Envelope
		seq, ok := seqs[env.ID]
		if !ok {
			// Stored before, or an earlier copy in this very batch.
			results[i] = Duplicate
			dups[env.ID]++
			dupRejections = append(dupRejections, duplicateOf(p.in))
			continue
		}
		delete(seqs, env.ID)
		results[i] = Stored
		key := keyOf(p.in)
		events = append(events, newProjectedEvent(env, key, flags[i]))
		stored = append(stored, CommittedEvent{Seq: seq, EventID: env.ID, Type: string(env.Type), UserKey: key,
			AccountID: env.Data.Account(), CreatedAt: env.CreatedAt})
	}
	if len(dups) > 0 {
		dupIDs, counts := make([]string, 0, len(dups)), make([]int64, 0, len(dups))
		for id, c := range dups {
			dupIDs, counts = append(dupIDs, id), append(counts, c)
		}
		_, err := tx.ExecContext(ctx, `UPDATE events SET deliveries = deliveries + d.n
			FROM unnest($1::text[], $2::bigint[]) AS d(id, n) WHERE events.event_id = d.id`, dupIDs, counts)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("models: count duplicates: %w", err)
		}
	}
	return results, stored, events, dupRejections, nil
}

// userKeysPostgres creates the batch's unknown users and learns their keys.
func (in *Ingester) userKeysPostgres(ctx context.Context, tx *sql.Tx, batch []pending, newKeys map[string]int64) error {
	var missing []string
	seen := map[string]bool{}
	for _, p := range batch {
		s := p.in.Envelope.Data.Subject()
		if _, cached := in.userKeys[s]; s == "" || cached || seen[s] {
			continue
		}
		seen[s] = true
		missing = append(missing, s)
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO smile_users (id) SELECT unnest($1::text[]) ON CONFLICT (id) DO NOTHING`, missing); err != nil {
		return fmt.Errorf("models: create users: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, user_key FROM smile_users WHERE id = ANY($1::text[])`, missing)
	if err != nil {
		return fmt.Errorf("models: user keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var key int64
		if err := rows.Scan(&id, &key); err != nil {
			return fmt.Errorf("models: user keys: %w", err)
		}
		newKeys[id] = key
	}
	return rows.Err()
}

// insertRejectionsPostgres records refused and duplicate attempts in one statement.
func insertRejectionsPostgres(ctx context.Context, tx *sql.Tx, rs []Rejection) error {
	if len(rs) == 0 {
		return nil
	}
	n := len(rs)
	at, ips, outcomes, reasons := make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	statuses, ids, types, sizes, excerpts := make([]int64, n), make([]string, n), make([]string, n), make([]int64, n), make([]string, n)
	for i, r := range rs {
		at[i], ips[i], reasons[i] = r.ReceivedAt.UTC(), r.SourceIP, r.Reason
		outcomes[i] = OutcomeRejected
		if r.Reason == ReasonDuplicate {
			outcomes[i] = OutcomeDuplicate
		}
		statuses[i], ids[i], types[i], sizes[i], excerpts[i] = int64(r.Status), r.EventID, r.EventType, int64(r.BodyBytes), r.Excerpt
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (received_at, source_ip, outcome, reason, status, event_id, event_type, body_bytes, excerpt)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], $9::text[])`,
		at, ips, outcomes, reasons, statuses, ids, types, sizes, excerpts)
	if err != nil {
		return fmt.Errorf("models: record deliveries: %w", err)
	}
	return nil
}

// saveSetBased writes a projection with one multi-row upsert per table and one
// for the event counts, for PostgreSQL.
func (p *projection) saveSetBased(ctx context.Context, s *Store, tx *sql.Tx, before rowValues) error {
	g := s.gormOn(tx).WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true})
	for _, err := range []error{
		upsertChanged(g, "users", p.users, before.users), upsertChanged(g, "accounts", p.accounts, before.accounts),
		upsertChanged(g, "archives", p.archives, before.archives), upsertChanged(g, "invites", p.invites, before.invites),
		upsertChanged(g, "tasks", p.tasks, before.tasks), upsertChanged(g, "data availability", p.data, before.data),
		upsertChanged(g, "records", p.records, before.records), upsertChanged(g, "verifications", p.verifications, before.verifications),
	} {
		if err != nil {
			return err
		}
	}
	if len(p.counts) == 0 {
		return nil
	}
	types, counts := make([]string, 0, len(p.counts)), make([]int64, 0, len(p.counts))
	for t, c := range p.counts {
		types, counts = append(types, t), append(counts, c)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO event_counts (type, stored) SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (type) DO UPDATE SET stored = event_counts.stored + excluded.stored`, types, counts)
	if err != nil {
		return fmt.Errorf("save event counts: %w", err)
	}
	return nil
}

// upsertChanged writes the rows that differ from how they were loaded, in one
// multi-row upsert.
func upsertChanged[K comparable, V any](g *gorm.DB, name string, rows map[K]*V, before map[K]V) error {
	var changed []*V
	for k, row := range rows {
		if old, ok := before[k]; !ok || !reflect.DeepEqual(*row, old) {
			changed = append(changed, row)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := g.CreateInBatches(changed, 1000).Error; err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}
