package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"smiledash/smile"

	"gorm.io/gorm"
)

// Event families group Smile's event types for the overview's volume chart and
// the events list's family filter.
const (
	FamilyAccount = "account"
	FamilyData    = "data"
	FamilyArchive = "archive"
	FamilyTask    = "task"
	FamilyInvite  = "invite"
	FamilyRecord  = "record" // records and identity verifications
	FamilyUser    = "user"
	FamilyOther   = "other" // types smiledash does not know
)

// EventFamilies lists the families in the order charts draw them.
var EventFamilies = []string{FamilyAccount, FamilyData, FamilyArchive, FamilyTask, FamilyInvite, FamilyRecord, FamilyUser, FamilyOther}

// EventFamily returns the family of an event type.
func EventFamily(typ string) string {
	if !slices.Contains(smile.EventTypes, smile.EventType(typ)) {
		return FamilyOther
	}
	switch {
	case typ == string(smile.AccountSyncTaskFinished), strings.HasPrefix(typ, "TASK_"):
		return FamilyTask
	case strings.HasPrefix(typ, "ACCOUNT_"):
		return FamilyAccount
	case strings.HasPrefix(typ, "ARCHIVE_"):
		return FamilyArchive
	case strings.HasPrefix(typ, "INVITE_"):
		return FamilyInvite
	case strings.HasPrefix(typ, "RECORD_"), strings.HasPrefix(typ, "VERIFICATION_"):
		return FamilyRecord
	case strings.HasPrefix(typ, "USER_"):
		return FamilyUser
	default: // *_ADDED and *_UPDATED: datapoints
		return FamilyData
	}
}

// familyTypes returns the known types of a family; for FamilyOther, every
// known type (which the filter then excludes).
func familyTypes(family string) []string {
	var out []string
	for _, t := range smile.EventTypes {
		if family == FamilyOther || EventFamily(string(t)) == family {
			out = append(out, string(t))
		}
	}
	return out
}

// --- Hourly counters (event_hourly), maintained by the projection. ---

// HourKey is one row of event_hourly (and, with Hour rounded to the day, of
// event_daily).
type HourKey struct {
	Hour           int64 // Unix second the hour starts, by Smile's createdAt
	Type           string
	Provider, Code string
}

// funnelTypes are the account webhooks the funnel counts per provider. Only
// they are counted by provider: the other types need one row per hour and
// type, not one per provider too.
var funnelTypes = []string{string(smile.AccountCreated), string(smile.AccountConnected), string(smile.AccountFailed)}

// NewHourKey is the counter an event of type t stamped at counts in. provider
// (the account's) is kept only for the funnel's types.
func NewHourKey(t smile.EventType, at time.Time, errorCode, provider string) HourKey {
	k := HourKey{Hour: at.Unix() / 3600 * 3600, Type: string(t), Code: errorCode}
	if slices.Contains(funnelTypes, k.Type) {
		k.Provider = provider
	}
	return k
}

// SaveHourly adds a batch's counters to event_hourly and, summed by day, to
// event_daily, in tx, in multi-row upserts.
func SaveHourly(tx *gorm.DB, rows map[HourKey]int64) error {
	days := make(map[HourKey]int64, len(rows))
	for k, n := range rows {
		k.Hour = k.Hour / 86400 * 86400
		days[k] += n
	}
	for _, c := range []struct {
		table, column string
		rows          map[HourKey]int64
	}{{"event_hourly", "hour", rows}, {"event_daily", "day", days}} {
		keys := make([]HourKey, 0, len(c.rows))
		for k := range c.rows {
			keys = append(keys, k)
		}
		for chunk := range slices.Chunk(keys, 100) {
			args := make([]any, 0, 5*len(chunk))
			for _, k := range chunk {
				args = append(args, k.Hour, k.Type, k.Provider, k.Code, c.rows[k])
			}
			q := "INSERT INTO " + c.table + " (" + c.column + ", type, provider_id, error_code, stored) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?),", len(chunk)), ",") +
				" ON CONFLICT (" + c.column + ", type, provider_id, error_code) DO UPDATE SET stored = " + c.table + ".stored + excluded.stored"
			if err := tx.Exec(q, args...).Error; err != nil {
				return fmt.Errorf("save %s: %w", c.table, err)
			}
		}
	}
	return nil
}

// counters picks the counter table for a range read in buckets of bucket
// seconds: event_daily when both ends fall on UTC midnight and buckets are
// whole days, event_hourly otherwise. It returns the table, its time column
// and the range's bounds in Unix seconds, rounded to its grain.
func counters(from, to time.Time, bucket int64) (table, column string, lo, hi int64) {
	lo, hi = from.Unix(), to.Unix()
	if lo%86400 == 0 && hi%86400 == 0 && bucket%86400 == 0 {
		return "event_daily", "day", lo, hi
	}
	return "event_hourly", "hour", lo / 3600 * 3600, hi
}

// --- The overview's questions. ---

// InsightQuery is the overview's range: events dated in [From, To), drawn in
// buckets of Bucket (a whole number of hours).
type InsightQuery struct {
	From, To time.Time
	Bucket   time.Duration
}

// Insight answers the overview's questions for one range.
type Insight struct {
	// Users counts users, bounded; Accounts counts accounts per Smile status
	// (every status of AccountStatuses, in that order), bounded.
	Users    Count
	Accounts []StatusCount
	// Events counts events dated in the range; Families splits them.
	Events   int64
	Families map[string]int64
	// Volume has one bucket per Bucket from From, oldest first.
	Volume []VolumeBucket
	// Errors are the most frequent error codes of failure events in the range.
	Errors []ErrorCodeCount
	Health WebhookHealth
}

// StatusCount is how many accounts are in one Smile status.
type StatusCount struct {
	Status string
	Count  Count
}

// VolumeBucket counts the events of one time bucket by family.
type VolumeBucket struct {
	Start    time.Time
	ByFamily map[string]int64
	Total    int64
}

// ErrorCodeCount is how often one error code came with one event type.
type ErrorCodeCount struct {
	Code, Type string
	N          int64
}

// WebhookHealth is what the overview says about the webhook receiver.
type WebhookHealth struct {
	// Last is the newest stored event; nil when none is.
	Last *EventRow
	// Refusals counts refused deliveries since RefusalsSince, by reason.
	Refusals      []ReasonCount
	RefusalsSince time.Time
	// Secrets says which configured secret verified the latest events
	// (SecretsSample of them at most).
	Secrets []SecretUse
}

// ReasonCount is how many deliveries were refused for one reason.
type ReasonCount struct {
	Reason string
	N      int64
}

// SecretUse is how many of the latest events one secret verified.
type SecretUse struct {
	Index int   // 0 is the current secret
	N     int64 // of the latest SecretsSample events
}

// SecretsSample is how many of the newest events the secret summary reads.
const SecretsSample = 1000

// Insight reads the overview. Every part is an index range or a counter: the
// daily counters for a range of whole UTC days, the hourly ones otherwise,
// bounded counts for users and statuses, the newest rows for webhook health.
func (s *Store) Insight(ctx context.Context, q InsightQuery) (Insight, error) {
	out := Insight{Families: map[string]int64{}}
	from, to := q.From.UTC(), q.To.UTC()
	bucket := max(int64(q.Bucket/time.Second)/3600*3600, 3600)
	var err error
	if out.Users, err = s.boundedCount(ctx, "FROM smile_users"); err != nil {
		return Insight{}, err
	}
	for _, st := range AccountStatuses {
		c, err := s.boundedCount(ctx, "FROM accounts WHERE status = ?", st)
		if err != nil {
			return Insight{}, err
		}
		out.Accounts = append(out.Accounts, StatusCount{Status: st, Count: c})
	}
	n := int((to.Unix() - from.Unix() + bucket - 1) / bucket)
	for i := range n {
		out.Volume = append(out.Volume, VolumeBucket{Start: from.Add(time.Duration(int64(i)*bucket) * time.Second), ByFamily: map[string]int64{}})
	}
	var vol []struct {
		B      int64
		Type   string
		Stored int64
	}
	table, col, lo, hi := counters(from, to, bucket)
	err = s.db.WithContext(ctx).Raw("SELECT ("+col+" - ?) / ? AS b, type, SUM(stored) AS stored FROM "+table+
		" WHERE "+col+" >= ? AND "+col+" < ? GROUP BY 1, 2", from.Unix(), bucket, lo, hi).Scan(&vol).Error
	if err != nil {
		return Insight{}, fmt.Errorf("models: event volume: %w", err)
	}
	for _, v := range vol {
		f := EventFamily(v.Type)
		out.Events += v.Stored
		out.Families[f] += v.Stored
		if v.B >= 0 && int(v.B) < n {
			out.Volume[v.B].ByFamily[f] += v.Stored
			out.Volume[v.B].Total += v.Stored
		}
	}
	err = s.db.WithContext(ctx).Raw("SELECT error_code AS code, type, SUM(stored) AS n FROM "+table+
		" WHERE "+col+" >= ? AND "+col+" < ? AND error_code <> '' GROUP BY error_code, type ORDER BY n DESC, code, type LIMIT 10",
		lo, hi).Scan(&out.Errors).Error
	if err != nil {
		return Insight{}, fmt.Errorf("models: top error codes: %w", err)
	}
	if out.Health, err = s.webhookHealth(ctx, to.Add(-24*time.Hour)); err != nil {
		return Insight{}, err
	}
	return out, nil
}

// webhookHealth reads the newest event, refusals since a time and which
// secrets verified the newest events.
func (s *Store) webhookHealth(ctx context.Context, since time.Time) (WebhookHealth, error) {
	h := WebhookHealth{RefusalsSince: since}
	page, err := s.Events(ctx, EventsQuery{Limit: 1})
	if err != nil {
		return h, err
	}
	if len(page.Events) > 0 {
		h.Last = &page.Events[0]
	}
	db := s.db.WithContext(ctx)
	// deliveries is pruned to a bounded size, so this reads a bounded number of rows.
	err = db.Raw("SELECT reason, COUNT(*) AS n FROM deliveries WHERE outcome = ? AND received_at >= ? GROUP BY reason ORDER BY n DESC, reason",
		OutcomeRejected, since.UTC()).Scan(&h.Refusals).Error
	if err != nil {
		return h, fmt.Errorf("models: refusals by reason: %w", err)
	}
	err = db.Raw("SELECT secret_index AS \"index\", COUNT(*) AS n FROM (SELECT secret_index FROM events "+
		"ORDER BY seq DESC LIMIT ?) latest GROUP BY secret_index ORDER BY secret_index", SecretsSample).Scan(&h.Secrets).Error
	if err != nil {
		return h, fmt.Errorf("models: secrets used: %w", err)
	}
	return h, nil
}
