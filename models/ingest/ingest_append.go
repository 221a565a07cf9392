package ingest

import (
	"fmt"
	"slices"
	"smiledash/migrations"
	"smiledash/models"
	"strings"

	"gorm.io/gorm"
)

// The acknowledgement path appends to the log and nothing else: the batch's
// users' keys are found (on PostgreSQL; on SQLite the projector resolves
// them, users.go), its events are inserted in
// multi-row statements that skip ids already stored, and duplicates are
// counted on their event.
// The statements are SQL text run through GORM's Exec and Raw, the same on
// SQLite and PostgreSQL; no lock is taken, so replicas append side by side and
// the unique event id is what makes a delivery exactly-once.

// Rows per multi-row statement: well under SQLite's 32,766 and PostgreSQL's
// 65,535 bound variables for the widest row (12 columns).
const appendChunk = 256

// appendBatch stores the batch's new events and returns, per submission,
// whether it was stored or a duplicate; the duplicates' delivery records are
// returned for the caller to write with the rejections. newKeys receives the
// keys of users found or created here.
func (in *Writer) appendBatch(tx *gorm.DB, batch []pending, newKeys map[string]int64) (
	results []Result, stored []CommittedEvent, duplicates []Rejection, err error) {
	if err := in.resolveUserKeys(tx, batch, newKeys); err != nil {
		return nil, nil, nil, err
	}
	keyOf := func(p pending) int64 { return in.userKey(p.in.Envelope.Data.Subject(), newKeys) }
	var next *int64 // SQLite: the writer numbers the events itself
	if in.eventLog.dialect == migrations.SQLite {
		floor, err := sqliteSeqFloor(tx)
		if err != nil {
			return nil, nil, nil, err
		}
		next = &floor
	}
	// Rows go in event id order, so two replicas appending the same events
	// lock their index entries in the same order and cannot deadlock.
	ordered := slices.SortedFunc(slices.Values(batch), func(a, b pending) int {
		return strings.Compare(a.in.Envelope.ID, b.in.Envelope.ID)
	})
	seqs := map[string]int64{}
	for chunk := range slices.Chunk(ordered, appendChunk) {
		if err := insertEvents(tx, chunk, keyOf, next, seqs); err != nil {
			return nil, nil, nil, err
		}
	}
	results = make([]Result, len(batch))
	dups := map[string]int64{}
	for i, p := range batch {
		env := p.in.Envelope
		seq, ok := seqs[env.ID]
		if !ok {
			// Stored before, or an earlier copy in this very batch.
			results[i] = Duplicate
			dups[env.ID]++
			duplicates = append(duplicates, duplicateOf(p.in))
			continue
		}
		delete(seqs, env.ID)
		results[i] = Stored
		stored = append(stored, CommittedEvent{Seq: seq, EventID: env.ID, Type: string(env.Type), UserKey: keyOf(p),
			UserID: env.Data.Subject(), AccountID: env.Data.Account(), CreatedAt: env.CreatedAt})
	}
	if err := countDuplicates(tx, dups); err != nil {
		return nil, nil, nil, err
	}
	return results, stored, duplicates, nil
}

// sqliteSeqFloor is the last sequence number SQLite's events may have been
// given. SQLite numbers a new row one past the largest one left, so after an
// erasure deleted the newest events it would hand their numbers out again,
// and the projector and the search indexer, already past them, would skip the
// new events. The writer therefore numbers events itself, past the log and
// past every position that follows it.
func sqliteSeqFloor(tx *gorm.DB) (int64, error) {
	var floor int64
	err := tx.Raw("SELECT MAX(n) FROM (SELECT COALESCE(MAX(seq), 0) AS n FROM events " +
		"UNION ALL SELECT position_seq FROM projector_state " +
		"UNION ALL SELECT position FROM search_positions WHERE source = 'events') AS floors").Scan(&floor).Error
	if err != nil {
		return 0, fmt.Errorf("ingest: next event number: %w", err)
	}
	return floor, nil
}

// insertEvents inserts one chunk, recording the sequence number of each event
// it stored; ids already stored (or earlier in the chunk) are skipped. With
// next set, events are numbered from *next + 1 (SQLite; see sqliteSeqFloor).
func insertEvents(tx *gorm.DB, chunk []pending, keyOf func(pending) int64, next *int64, seqs map[string]int64) error {
	cols, width := "event_id, type, created_at, received_at, user_key, pending_user, account_id, source_ip, secret_index, flags, body", 11
	if next != nil {
		cols, width = "seq, "+cols, 12
	}
	args := make([]any, 0, width*len(chunk))
	for _, p := range chunk {
		if next != nil {
			*next++
			args = append(args, *next)
		}
		env := p.in.Envelope
		var user *int64
		pendingUser := env.Data.Subject() // until the projector resolves it (users.go)
		if k := keyOf(p); k != 0 {
			user, pendingUser = &k, ""
		}
		args = append(args, env.ID, string(env.Type), env.CreatedAt, p.in.ReceivedAt.UTC(), user, pendingUser, env.Data.Account(),
			p.in.SourceIP, p.in.SecretIndex, models.EventFlags(env, p.in.ReceivedAt), p.in.Body)
	}
	rows, err := tx.Raw("INSERT INTO events ("+cols+") VALUES "+valuesList(len(chunk), width)+
		" ON CONFLICT (event_id) DO NOTHING RETURNING seq, event_id", args...).Rows()
	if err != nil {
		return fmt.Errorf("ingest: insert events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return fmt.Errorf("ingest: insert events: %w", err)
		}
		seqs[id] = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ingest: insert events: %w", err)
	}
	return nil
}

// countDuplicates adds each duplicate delivery to its event's count, one
// statement per distinct count (almost always just 1).
func countDuplicates(tx *gorm.DB, dups map[string]int64) error {
	byCount := map[int64][]string{}
	for id, n := range dups {
		byCount[n] = append(byCount[n], id)
	}
	for n, ids := range byCount {
		for chunk := range slices.Chunk(ids, appendChunk) {
			if err := tx.Exec("UPDATE events SET deliveries = deliveries + ? WHERE event_id IN ?", n, chunk).Error; err != nil {
				return fmt.Errorf("ingest: count duplicates: %w", err)
			}
		}
	}
	return nil
}

// insertDeliveries records refused and duplicate attempts.
func insertDeliveries(tx *gorm.DB, rs []Rejection) error {
	for chunk := range slices.Chunk(rs, appendChunk) {
		args := make([]any, 0, 9*len(chunk))
		for _, r := range chunk {
			outcome := models.OutcomeRejected
			if r.Reason == models.ReasonDuplicate {
				outcome = models.OutcomeDuplicate
			}
			args = append(args, r.ReceivedAt.UTC(), r.SourceIP, outcome, r.Reason, r.Status, r.EventID, r.EventType, r.BodyBytes, r.Excerpt)
		}
		err := tx.Exec("INSERT INTO deliveries (received_at, source_ip, outcome, reason, status, event_id, event_type, body_bytes, excerpt) VALUES "+
			valuesList(len(chunk), 9), args...).Error
		if err != nil {
			return fmt.Errorf("ingest: record deliveries: %w", err)
		}
	}
	return nil
}

// pruneDeliveries keeps only the newest max delivery records.
func pruneDeliveries(tx *gorm.DB, max int) error {
	err := tx.Exec("DELETE FROM deliveries WHERE id <= (SELECT id FROM deliveries ORDER BY id DESC LIMIT 1 OFFSET ?)", max).Error
	if err != nil {
		return fmt.Errorf("ingest: prune deliveries: %w", err)
	}
	return nil
}

// valuesList is "(?, ?), (?, ?)" for rows of cols placeholders.
func valuesList(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}
