package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"smiledash/smile"
)

// Gap kinds: what a widget claimed that no signed webhook confirmed, or a user
// Smile tells us about whom no connect link of ours ever reached.
const (
	GapAccountConnected = "account_connected" // onAccountConnected without ACCOUNT_CONNECTED
	GapAccountError     = "account_error"     // onAccountError without ACCOUNT_FAILED
	GapUploadsCreated   = "uploads_created"   // onUploadsCreated without ARCHIVE_STARTED
	GapAccountRemoved   = "account_removed"   // onAccountRemoved without ACCOUNT_DISCONNECTED
	GapNoLink           = "no_link"           // webhooks for a user no connect link was opened for
)

// GapKinds lists the kinds in the order pages show them.
var GapKinds = []string{GapAccountConnected, GapAccountError, GapUploadsCreated, GapAccountRemoved, GapNoLink}

// Gap statuses, computed from the window when read: a claim still inside the
// window is waiting, past it open; a late webhook closes it; one in time
// matched it, and then it was never a gap (such rows are kept so a later,
// earlier-dated webhook and a rebuild agree, but lists leave them out).
const (
	GapWaiting = "waiting"
	GapOpen    = "open"
	GapClosed  = "closed"
	GapMatched = "matched"
)

// DefaultGapWindow is how long a claim waits for its webhook before it is a gap.
const DefaultGapWindow = 10 * time.Minute

// claimLookback is how long before a claim a matching webhook may be stamped.
// Smile stamps ACCOUNT_CONNECTED before the widget shows its success screen,
// and Smile's clock and ours differ; a reconnection of the same account later
// than this gets a webhook of its own.
const claimLookback = 30 * time.Minute

// gapRule is what closes the gap a callback opens.
type gapRule struct {
	kind     string
	event    smile.EventType
	callback smile.Callback
	// byAccount: the webhook must name the claimed account (when the claim
	// names one); archives name none.
	byAccount bool
}

var gapRules = []gapRule{
	{GapAccountConnected, smile.AccountConnected, smile.OnAccountConnected, true},
	{GapAccountError, smile.AccountFailed, smile.OnAccountError, true},
	{GapUploadsCreated, smile.ArchiveStarted, smile.OnUploadsCreated, false},
	{GapAccountRemoved, smile.AccountDisconnected, smile.OnAccountRemoved, true},
}

func ruleForCallback(name string) (gapRule, bool) {
	for _, r := range gapRules {
		if string(r.callback) == name {
			return r, true
		}
	}
	return gapRule{}, false
}

func ruleForEvent(t smile.EventType) (gapRule, bool) {
	for _, r := range gapRules {
		if r.event == t {
			return r, true
		}
	}
	return gapRule{}, false
}

// Gap is one row of the gaps table, with its status as of a moment.
type Gap struct {
	ID         int64      `gorm:"column:id;primaryKey"`
	Kind       string     `gorm:"column:kind"`
	UserKey    int64      `gorm:"column:user_key"`
	AccountID  string     `gorm:"column:account_id"`
	CallbackID *int64     `gorm:"column:callback_id"`
	EventID    string     `gorm:"column:event_id"`
	ClaimedAt  time.Time  `gorm:"column:claimed_at"`
	ClosedAt   *time.Time `gorm:"column:closed_at"`
	ClosedBy   string     `gorm:"column:closed_by"`
	LagSeconds *int64     `gorm:"column:lag_seconds"`
	CheckedAt  *time.Time `gorm:"column:checked_at"`
	// UserID is the user's Smile id (filled by queries, not stored here).
	UserID string `gorm:"column:user_id;->"`
	// Status is GapWaiting, GapOpen, GapClosed or GapMatched (computed).
	Status string `gorm:"-"`
}

// TableName implements gorm's tabler.
func (Gap) TableName() string { return "gaps" }

// GapStatus classifies a gap row at now with the window.
func GapStatus(g Gap, now time.Time, window time.Duration) string {
	if g.ClosedAt != nil {
		if g.LagSeconds != nil && time.Duration(*g.LagSeconds)*time.Second > window {
			return GapClosed
		}
		return GapMatched
	}
	if now.Sub(g.ClaimedAt) > window {
		return GapOpen
	}
	return GapWaiting
}

// SetGapWindow sets how long a claim waits for its webhook (default
// DefaultGapWindow). It only changes how rows are classified when read.
func (s *Store) SetGapWindow(d time.Duration) {
	if d > 0 {
		s.gapWindow.Store(int64(d))
	}
}

// GapWindow is the window set with SetGapWindow.
func (s *Store) GapWindow() time.Duration {
	if d := s.gapWindow.Load(); d > 0 {
		return time.Duration(d)
	}
	return DefaultGapWindow
}

// openCallbackGap records the claim a stored callback makes, already closed
// when a matching webhook is stored (the webhook often arrives first). Only
// the four claiming callbacks, and only those of a known user, open gaps.
//
// It runs in the callback's transaction. On PostgreSQL it takes the
// projection lock first, so a webhook projected at the same moment either is
// seen here or sees this gap; SQLite serialises writers anyway. It matches
// against the log, not the projections: a webhook stored but not yet
// projected closes the claim at once.
func (s *Store) openCallbackGap(db *gorm.DB, cb *Callback) error {
	rule, ok := ruleForCallback(cb.Name)
	if !ok || cb.UserKey == nil {
		return nil
	}
	if _, err := s.LockProjections(db, true); err != nil {
		return fmt.Errorf("models: gap lock: %w", err)
	}
	g := Gap{Kind: rule.kind, UserKey: *cb.UserKey, AccountID: cb.AccountID, CallbackID: &cb.ID, ClaimedAt: cb.ReceivedAt.UTC()}
	q := db.Table("events").Select("event_id, created_at").
		Where("user_key = ? AND type = ? AND created_at >= ? AND flags NOT LIKE ?",
			g.UserKey, string(rule.event), g.ClaimedAt.Add(-claimLookback), "%"+smile.FlagCreatedAtFuture+"%")
	if rule.byAccount && g.AccountID != "" {
		q = q.Where("account_id = ?", g.AccountID)
	}
	var match struct {
		EventID   string    `gorm:"column:event_id"`
		CreatedAt time.Time `gorm:"column:created_at"`
	}
	res := q.Order("created_at, event_id").Limit(1).Find(&match)
	if res.Error != nil {
		return fmt.Errorf("models: match callback %d: %w", cb.ID, res.Error)
	}
	if res.RowsAffected > 0 {
		closeGapRow(&g, match.EventID, match.CreatedAt)
	}
	if err := db.Create(&g).Error; err != nil {
		return fmt.Errorf("models: open gap for callback %d: %w", cb.ID, err)
	}
	return nil
}

func closeGapRow(g *Gap, eventID string, at time.Time) {
	at = at.UTC()
	lag := int64(at.Sub(g.ClaimedAt) / time.Second)
	g.ClosedAt, g.ClosedBy, g.LagSeconds = &at, eventID, &lag
}

// closesEarlier reports whether a webhook stamped at (with id) closes g
// earlier than what closed it so far: the earliest matching webhook wins, so
// arrival order and a rebuild give the same row.
func closesEarlier(g Gap, eventID string, at time.Time) bool {
	if g.ClosedAt == nil {
		return true
	}
	if !at.Equal(*g.ClosedAt) {
		return at.Before(*g.ClosedAt)
	}
	return eventID < g.ClosedBy
}

// deleteNoLinkGap removes the no_link gap of a user a connect link is now
// bound to: they did open one, so webhooks that came first only raced it.
func (s *Store) deleteNoLinkGap(ctx context.Context, userKey int64) error {
	err := s.db.WithContext(ctx).Exec("DELETE FROM gaps WHERE kind = ? AND user_key = ?", GapNoLink, userKey).Error
	if err != nil {
		return fmt.Errorf("models: clear no-link gap of user %d: %w", userKey, err)
	}
	return nil
}

// GapEvent is what the gaps need of a projected event.
type GapEvent struct {
	Type      smile.EventType
	UserKey   int64
	AccountID string
	EventID   string
	At        time.Time // Smile's createdAt
}

// OpenNoLinkGaps opens a no_link gap, stamped with the event given for the
// user, for each of these users whom no connect link names: one query for the
// links and one multi-row insert, whatever their number. The projector calls
// it with each user's first event of a batch.
func OpenNoLinkGaps(tx *gorm.DB, firsts []GapEvent) error {
	if len(firsts) == 0 {
		return nil
	}
	keys := make([]int64, len(firsts))
	for i, ev := range firsts {
		keys[i] = ev.UserKey
	}
	var linked []int64
	if err := tx.Table("connect_links").Where("user_key IN ?", keys).Distinct().Pluck("user_key", &linked).Error; err != nil {
		return fmt.Errorf("models: links of the batch's users: %w", err)
	}
	isLinked := make(map[int64]bool, len(linked))
	for _, k := range linked {
		isLinked[k] = true
	}
	args := make([]any, 0, 4*len(firsts))
	for _, ev := range firsts {
		if !isLinked[ev.UserKey] {
			args = append(args, GapNoLink, ev.UserKey, ev.EventID, ev.At.UTC())
		}
	}
	// 256 rows of 4 values per statement, well inside both databases' limits.
	for chunk := range slices.Chunk(args, 4*256) {
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?),", len(chunk)/4), ",")
		err := tx.Exec("INSERT INTO gaps (kind, user_key, event_id, claimed_at) VALUES "+rows+" ON CONFLICT DO NOTHING", chunk...).Error
		if err != nil {
			return fmt.Errorf("models: no-link gaps: %w", err)
		}
	}
	return nil
}

// CloseGaps closes the gaps ev answers (the earliest matching webhook wins,
// so arrival order and a rebuild agree). Events of types that answer no
// callback close nothing.
func CloseGaps(tx *gorm.DB, ev GapEvent) error {
	rule, ok := ruleForEvent(ev.Type)
	if !ok || ev.UserKey == 0 {
		return nil
	}
	q := tx.Table("gaps").Select("id, claimed_at, closed_at, closed_by").
		Where("user_key = ? AND kind = ? AND claimed_at <= ?", ev.UserKey, rule.kind, ev.At.Add(claimLookback).UTC())
	if rule.byAccount {
		q = q.Where("account_id = '' OR account_id = ?", ev.AccountID)
	}
	var open []Gap
	if err := q.Find(&open).Error; err != nil {
		return fmt.Errorf("models: gaps closed by %s: %w", ev.EventID, err)
	}
	for _, g := range open {
		if !closesEarlier(g, ev.EventID, ev.At) {
			continue
		}
		closeGapRow(&g, ev.EventID, ev.At)
		err := tx.Exec("UPDATE gaps SET closed_at = ?, closed_by = ?, lag_seconds = ? WHERE id = ?",
			*g.ClosedAt, g.ClosedBy, *g.LagSeconds, g.ID).Error
		if err != nil {
			return fmt.Errorf("models: close gap %d: %w", g.ID, err)
		}
	}
	return nil
}

// ResetGaps starts a rebuild: every gap goes, and each claiming callback opens
// its gap again, so the replayed events close exactly what ingest closed.
func ResetGaps(tx *gorm.DB) error {
	if err := tx.Exec("DELETE FROM gaps").Error; err != nil {
		return fmt.Errorf("clear gaps: %w", err)
	}
	for _, r := range gapRules {
		err := tx.Exec("INSERT INTO gaps (kind, user_key, account_id, callback_id, claimed_at) "+
			"SELECT ?, user_key, account_id, id, received_at FROM callbacks WHERE name = ? AND user_key IS NOT NULL",
			r.kind, string(r.callback)).Error
		if err != nil {
			return fmt.Errorf("reopen %s gaps: %w", r.kind, err)
		}
	}
	return nil
}
