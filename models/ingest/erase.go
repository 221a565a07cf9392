package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"smiledash/migrations"
	"smiledash/models"
	"smiledash/smile"

	"gorm.io/gorm"
)

// ErasureKey hashes a Smile user id for the audit log: the entry can be
// matched against a request ("was user X erased?") by hashing X again, but
// does not hold the id itself.
func ErasureKey(smileUserID string) string {
	sum := sha256.Sum256([]byte("smiledash erasure\x00" + smileUserID))
	return "sha256:" + hex.EncodeToString(sum[:12])
}

// ErasureReport is what an erasure removed. It holds no personal data: the
// user is named only by ErasureKey.
type ErasureReport struct {
	// UserKey is the ErasureKey, the audit entry's target.
	UserKey string `json:"-"`
	// Removed counts rows per table.
	Removed map[string]int64 `json:"removed"`
	// RevokedAtSmile counts accounts deleted at Smile first.
	RevokedAtSmile int `json:"revokedAtSmile"`
}

// AuditDetails is the report as the audit entry's details: JSON counts
// (under 500 characters, the audit log's bound, for the tables listed).
func (r ErasureReport) AuditDetails() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// AccountRevoker deletes a user's accounts at Smile (*smile.Client).
type AccountRevoker interface {
	AllAccounts(ctx context.Context, userID string) ([]smile.Account, error)
	RevokeAccount(ctx context.Context, id string) error
}

var _ AccountRevoker = (*smile.Client)(nil)

// EraseRequest names the user to erase and who asks.
type EraseRequest struct {
	SmileUserID string
	// Actor is who erased (an admin's email, "cli") and ActorAdminID the
	// admin's id (nil from the CLI); they go in the audit entry.
	Actor        string
	ActorAdminID *int64
	// Revoker, when set, deletes the user's accounts at Smile before anything
	// is erased here; if Smile refuses, nothing is erased.
	Revoker AccountRevoker
	Now     time.Time
}

// ErrRevokeRefused is wrapped when Smile did not revoke an account; nothing
// was erased then.
var ErrRevokeRefused = errors.New("ingest: revoking at Smile failed, so nothing was erased")

// ErrNothingToErase is returned when no user, event or link has the id.
var ErrNothingToErase = fmt.Errorf("ingest: no user, event or connect link has that Smile user id: %w", models.ErrNotFound)

// EraseUser removes everything stored about one end user, in one transaction,
// and records an audit entry without personal data in the same commit: their
// events, those the projector has not resolved to their key yet too (and the
// delivery records of those events or naming them), widget
// callbacks, our actions about them, their connect links and widget sessions,
// and every projection row of theirs, with the per-type event counts reduced
// so the projections equal a rebuild from the remaining log. The user's row
// stays as a tombstone ("erased-<key>", nothing projected) because other
// replicas' ingest writers may still map the id to its key; webhooks Smile
// sends later for the same id are stored anew.
func (l *Log) EraseUser(ctx context.Context, req EraseRequest) (ErasureReport, error) {
	id := strings.TrimSpace(req.SmileUserID)
	if id == "" || strings.ContainsRune(id, 0) {
		return ErasureReport{}, fmt.Errorf("ingest: erase user: a Smile user id is required")
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	report := ErasureReport{UserKey: ErasureKey(id), Removed: map[string]int64{}}
	key, found, err := l.erasureSubject(ctx, id)
	if err != nil {
		return report, err
	}
	if !found {
		return report, ErrNothingToErase
	}
	if req.Revoker != nil {
		if report.RevokedAtSmile, err = l.revokeAtSmile(ctx, req.Revoker, id, key); err != nil {
			return report, err
		}
	}
	tx := l.writer.WithContext(ctx).Begin()
	if tx.Error != nil {
		return report, fmt.Errorf("ingest: erase user: begin: %w", tx.Error)
	}
	if err := l.eraseIn(tx, id, key, &report, req); err != nil {
		_ = tx.Rollback().Error
		return report, fmt.Errorf("ingest: erase user: %w", err)
	}
	if err := tx.Commit().Error; err != nil {
		return report, fmt.Errorf("ingest: erase user: commit: %w", err)
	}
	return report, nil
}

// erasureSubject finds the user's key (0 when only connect links or
// unresolved events name the id) and whether there is anything to erase.
func (l *Log) erasureSubject(ctx context.Context, id string) (key int64, found bool, err error) {
	db := l.db.WithContext(ctx)
	var keys []int64
	if err := db.Model(&models.SmileUser{}).Where("id = ?", id).Pluck("user_key", &keys).Error; err != nil {
		return 0, false, fmt.Errorf("ingest: erase user: find user: %w", err)
	}
	if len(keys) > 0 {
		return keys[0], true, nil
	}
	var links int64
	if err := db.Table("connect_links").Where("smile_user_id = ?", id).Count(&links).Error; err != nil {
		return 0, false, fmt.Errorf("ingest: erase user: find links: %w", err)
	}
	if links > 0 {
		return 0, true, nil
	}
	// A user the projector has not created yet, known from webhooks only.
	var seqs []int64
	if err := db.Model(&models.Event{}).Where(models.UnresolvedOf, id).Limit(1).Pluck("seq", &seqs).Error; err != nil {
		return 0, false, fmt.Errorf("ingest: erase user: find unresolved events: %w", err)
	}
	return 0, len(seqs) > 0, nil
}

// revokeAtSmile deletes at Smile every account we know of the user and every
// account Smile lists for them. Accounts Smile no longer has count as gone.
func (l *Log) revokeAtSmile(ctx context.Context, r AccountRevoker, id string, key int64) (int, error) {
	ids := map[string]bool{}
	var ours []string
	// From the log, not the projections: an account whose events the
	// projector has not reached (or resolved) yet is the user's all the same.
	if err := l.db.WithContext(ctx).Model(&models.Event{}).Distinct("account_id").
		Where("("+userEvents+") AND account_id <> ''", key, id).Pluck("account_id", &ours).Error; err != nil {
		return 0, fmt.Errorf("ingest: erase user: list accounts: %w", err)
	}
	for _, a := range ours {
		ids[a] = true
	}
	theirs, err := r.AllAccounts(ctx, id)
	if err != nil && !smile.IsNotFound(err) {
		return 0, fmt.Errorf("%w: list accounts: %w", ErrRevokeRefused, err)
	}
	for _, a := range theirs {
		ids[a.ID] = true
	}
	n := 0
	for a := range ids {
		if err := r.RevokeAccount(ctx, a); err != nil && !smile.IsNotFound(err) {
			return n, fmt.Errorf("%w: revoke account %s: %w", ErrRevokeRefused, a, err)
		}
		n++
	}
	return n, nil
}

// eraseIn runs the erasure steps in tx.
// The user's events the projector has not reached are deleted unprojected:
// only the projected ones are taken out of the counters. Unresolved events
// (no key yet) never are projected: the projector resolves as it projects.
func (l *Log) eraseIn(tx *gorm.DB, id string, key int64, report *ErasureReport, req EraseRequest) error {
	// The projection lock: no replica projects this user meanwhile.
	if _, err := l.store.LockProjections(tx, true); err != nil {
		return err
	}
	pos, err := l.store.ProjectorPosition(tx)
	if err != nil {
		return err
	}
	// Projectors cache projection rows; this user's are going.
	if err := l.store.ClaimProjections(tx, models.OwnerErase); err != nil {
		return err
	}
	if err := l.uncountEvents(tx, key, pos); err != nil {
		return err
	}
	if err := l.uncountHours(tx, key, pos); err != nil {
		return err
	}
	contains := "instr(%s, ?) > 0"
	if l.dialect == migrations.Postgres {
		contains = "strpos(%s, ?) > 0"
	}
	for _, step := range erasureSteps(contains, l.dialect != migrations.Postgres) {
		args := step.args(id, key)
		res := tx.Exec("DELETE FROM "+step.table+" WHERE "+step.where, args...)
		if res.Error != nil {
			return fmt.Errorf("delete from %s: %w", step.table, res.Error)
		}
		if n := res.RowsAffected; n > 0 {
			report.Removed[step.table] += n
		}
	}
	if key != 0 {
		if err := tx.Exec(tombstoneUser, fmt.Sprintf("erased-%d", key), key).Error; err != nil {
			return fmt.Errorf("tombstone user: %w", err)
		}
		report.Removed["smile_users"] = 1
	}
	return insertErasureAudit(tx, req, *report)
}

// tombstoneUser clears the user's row down to its key: no id, nothing projected.
const tombstoneUser = "UPDATE smile_users SET id = ?, created_at = NULL, first_seen_at = NULL, last_seen_at = NULL, " +
	"event_count = 0, session_status = '', session_channel = '', session_at = NULL, session_rank = 0, session_event_id = '' " +
	"WHERE user_key = ?"

// uncountEvents takes the user's projected events out of the per-type
// counts; a type left with none loses its row, as a rebuild would not create
// it.
func (l *Log) uncountEvents(tx *gorm.DB, key int64, pos models.LogPosition) error {
	cond, args := l.store.ProjectedBy(pos)
	var counts []struct {
		Type string `gorm:"column:type"`
		N    int64  `gorm:"column:n"`
	}
	if err := tx.Raw("SELECT type, count(*) AS n FROM events WHERE user_key = ? AND "+cond+" GROUP BY type",
		append([]any{key}, args...)...).Scan(&counts).Error; err != nil {
		return fmt.Errorf("count events: %w", err)
	}
	for _, c := range counts {
		if err := tx.Exec("UPDATE event_counts SET stored = stored - ? WHERE type = ?", c.N, c.Type).Error; err != nil {
			return fmt.Errorf("uncount %s: %w", c.Type, err)
		}
	}
	if err := tx.Exec("DELETE FROM event_counts WHERE stored <= 0").Error; err != nil {
		return fmt.Errorf("drop empty counts: %w", err)
	}
	return nil
}

// uncountHours takes the user's projected events out of the overview's
// counters (event_hourly, event_daily). Their rows hold no ids, but the counts
// must equal a rebuild's. The keys are recomputed by replaying the user's
// events, in the rebuild's order, through a fresh projection: an account
// event's provider comes from its account row, and accounts belong to one
// user, so the replay gives the same keys as the rebuild did. A row left with
// none is dropped, as a rebuild would not create it.
func (l *Log) uncountHours(tx *gorm.DB, key int64, pos models.LogPosition) error {
	cond, args := l.store.ProjectedBy(pos)
	var rows []models.Event
	if err := tx.Select("seq", "user_key", "flags", "body").
		Where("user_key = ?", key).Where(cond, args...).Order("seq").Find(&rows).Error; err != nil {
		return fmt.Errorf("read events to uncount: %w", err)
	}
	p := newProjection()
	for _, row := range rows {
		ev, err := projectedFromStored(row)
		if err != nil {
			continue // parked: it was never counted
		}
		p.apply(ev)
	}
	for k, n := range p.hourly {
		day := k
		day.Hour = k.Hour / 86400 * 86400
		for _, c := range []struct {
			table, column string
			at            int64
		}{{"event_hourly", "hour", k.Hour}, {"event_daily", "day", day.Hour}} {
			q := "UPDATE " + c.table + " SET stored = stored - ? WHERE " + c.column + " = ? AND type = ? AND provider_id = ? AND error_code = ?"
			if err := tx.Exec(q, n, c.at, k.Type, k.Provider, k.Code).Error; err != nil {
				return fmt.Errorf("uncount %s: %w", c.table, err)
			}
		}
	}
	for _, table := range []string{"event_hourly", "event_daily"} {
		if err := tx.Exec("DELETE FROM " + table + " WHERE stored <= 0").Error; err != nil {
			return fmt.Errorf("drop empty %s: %w", table, err)
		}
	}
	return nil
}
