package ingest

import (
	"fmt"
	"slices"

	"gorm.io/gorm"

	"smiledash/migrations"
)

// Users on the acknowledgement path. A new Smile user used to be created by
// the writer, in the transaction that acknowledged their first webhook: a row
// in smile_users and an entry at a random place in its id index; and each
// event's entries in the per-user event indexes went to a random place too.
// With users arriving in random order those were most of the pages a commit
// wrote. On SQLite the writer now leaves users alone: every event that names
// a user is stored with user_key NULL (its index entries land together at the
// NULL end) and the user's id in pending_user, and the projector, which
// follows the log in larger transactions of its own, creates the user and
// resolves the event (resolvePendingUsers) just before projecting it. On the
// random-users workload the writer alone acknowledged ~1.6 times as many
// events/s as when it created users. Pages read a user's pending events
// beside their resolved ones. On PostgreSQL the writer still finds and
// creates users: there resolving an event later writes a new version of the
// whole row and an entry in every index, which costs more than it saves.

// deferUsers tells whether the writer leaves users to the projector.
func (in *Writer) deferUsers() bool { return in.eventLog.dialect == migrations.SQLite }

// userKey is the key to store an event of subject under: 0 when it names no
// user or (SQLite) until the projector resolves it.
func (in *Writer) userKey(subject string, newKeys map[string]int64) int64 {
	if subject == "" || in.deferUsers() {
		return 0
	}
	if k, ok := in.userKeys[subject]; ok {
		return k
	}
	return newKeys[subject]
}

// resolveUserKeys finds or creates the batch's users, recording the keys the
// writer's cache lacks in keys (PostgreSQL; nothing on SQLite).
func (in *Writer) resolveUserKeys(tx *gorm.DB, batch []pending, keys map[string]int64) error {
	if in.deferUsers() {
		return nil
	}
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
	slices.Sort(missing) // the same lock order on every replica
	return createUsers(tx, missing, keys)
}

// createUsers creates the users of ids not yet stored and records every one's
// key in keys.
func createUsers(tx *gorm.DB, ids []string, keys map[string]int64) error {
	for chunk := range slices.Chunk(ids, appendChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := tx.Exec("INSERT INTO smile_users (id) VALUES "+valuesList(len(chunk), 1)+" ON CONFLICT (id) DO NOTHING", args...).Error; err != nil {
			return fmt.Errorf("ingest: create users: %w", err)
		}
		var found []struct {
			ID      string `gorm:"column:id"`
			UserKey int64  `gorm:"column:user_key"`
		}
		if err := tx.Raw("SELECT id, user_key FROM smile_users WHERE id IN ?", chunk).Scan(&found).Error; err != nil {
			return fmt.Errorf("ingest: user keys: %w", err)
		}
		for _, k := range found {
			keys[k.ID] = k.UserKey
		}
	}
	return nil
}

// resolvePendingUsers gives the rows whose user the writer left pending their
// user: it creates the users missing from smile_users and sets each event's
// user_key, clearing pending_user, before the rows are projected. It runs in
// the projector's (or a rebuild's) transaction, so an event is resolved
// exactly when it is projected.
func resolvePendingUsers(tx *gorm.DB, rows []logRow) error {
	var ids []string
	var seqs []int64
	seen := map[string]bool{}
	for _, r := range rows {
		if r.UserKey == nil && r.PendingUser != "" {
			if !seen[r.PendingUser] {
				seen[r.PendingUser] = true
				ids = append(ids, r.PendingUser)
			}
			seqs = append(seqs, r.Seq)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// Users are created in the order of their first event, so their keys do
	// not depend on where batches begin and end: a rebuild, in its own
	// batches, gives the keys the projector gave.
	keys := map[string]int64{}
	if err := createUsers(tx, ids, keys); err != nil {
		return err
	}
	for chunk := range slices.Chunk(seqs, appendChunk) {
		err := tx.Exec("UPDATE events SET user_key = (SELECT u.user_key FROM smile_users u WHERE u.id = events.pending_user), "+
			"pending_user = '' WHERE seq IN ? AND user_key IS NULL AND pending_user <> ''", chunk).Error
		if err != nil {
			return fmt.Errorf("ingest: resolve the users of %d events: %w", len(chunk), err)
		}
	}
	for i, r := range rows {
		if r.UserKey == nil && r.PendingUser != "" {
			key := keys[r.PendingUser]
			rows[i].UserKey, rows[i].PendingUser = &key, ""
		}
	}
	return nil
}
