package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"smiledash/smile"
)

// Surprising transitions in an account's lifecycle, named for pages and the API.
const (
	// FlagReconnectedWithoutCreate: CONNECTED after DISCONNECTED with no new
	// ACCOUNT_CREATED between. A user who unlinks and links again starts a new
	// linking attempt, which Smile announces with ACCOUNT_CREATED.
	FlagReconnectedWithoutCreate = "reconnected_without_create"
	// FlagRecoveredWithoutTask: ERROR → CONNECTED with no new task for the
	// account (TASK_STARTED) between: a retry after an error runs a new task.
	FlagRecoveredWithoutTask = "recovered_without_task"
	// FlagAfterDisconnected: ERROR after DISCONNECTED with no new
	// ACCOUNT_CREATED. DISCONNECTED means the user unlinked; Smile documents no
	// way back other than linking again.
	FlagAfterDisconnected = "after_disconnected"
	// FlagNoCreated: the first state we saw is not PENDING. Smile sends
	// ACCOUNT_CREATED for every linking attempt, even for providers that need
	// no login (smile-api.md §2.7), so it was lost or never sent.
	FlagNoCreated = "no_account_created"
)

// maxLifecycleEvents bounds what one account's lifecycle reads: the newest
// events of the account's lifecycle types.
const maxLifecycleEvents = 500

// LifecycleStep is one state the account was in, from the event that set it
// until the next one (Until zero: still in it).
type LifecycleStep struct {
	State     string
	EventID   string
	From      time.Time
	Until     time.Time
	Duration  time.Duration // until the next step, or until now for the last
	ErrorCode string
	// Flag names a surprising transition into this state ("" for none).
	Flag string
}

// Lifecycle is an account's sequence of Smile connection states.
type Lifecycle struct {
	AccountID string
	UserKey   int64
	Steps     []LifecycleStep
	// Truncated is set when older events were left out (maxLifecycleEvents).
	Truncated bool
}

// LifecycleEvent is what the lifecycle reads of one webhook.
type LifecycleEvent struct {
	Stamp     Stamp
	Type      smile.EventType
	ErrorCode string
}

// BuildLifecycle turns an account's status and task events into steps, ordered
// as the projections order them (createdAt, lifecycle rank, id), and flags the
// transitions Smile's lifecycle does not explain.
func BuildLifecycle(events []LifecycleEvent, now time.Time) []LifecycleStep {
	events = slices.Clone(events)
	slices.SortFunc(events, func(a, b LifecycleEvent) int {
		if a.Stamp.After(b.Stamp) {
			return 1
		}
		if b.Stamp.After(a.Stamp) {
			return -1
		}
		return 0
	})
	var steps []LifecycleStep
	newTask := false
	for _, ev := range events {
		if ev.Type == smile.TaskStarted {
			newTask = true
			continue
		}
		state, ok := AccountStatusOf[ev.Type]
		if !ok {
			continue
		}
		step := LifecycleStep{State: state, EventID: ev.Stamp.EventID, From: ev.Stamp.At, ErrorCode: ev.ErrorCode}
		if len(steps) == 0 {
			if state != AccountPending {
				step.Flag = FlagNoCreated
			}
		} else {
			prev := steps[len(steps)-1].State
			// A new ACCOUNT_CREATED would itself be the previous step
			// (PENDING), so "no new ACCOUNT_CREATED" is prev != PENDING.
			switch {
			case prev == AccountDisconnected && state == AccountConnected:
				step.Flag = FlagReconnectedWithoutCreate
			case prev == AccountDisconnected && state == AccountError:
				step.Flag = FlagAfterDisconnected
			case prev == AccountError && state == AccountConnected && !newTask:
				step.Flag = FlagRecoveredWithoutTask
			}
		}
		newTask = false
		if n := len(steps); n > 0 {
			steps[n-1].Until = step.From
			steps[n-1].Duration = step.From.Sub(steps[n-1].From)
		}
		steps = append(steps, step)
	}
	if n := len(steps); n > 0 && now.After(steps[n-1].From) {
		steps[n-1].Duration = now.Sub(steps[n-1].From)
	}
	return steps
}

// lifecycleTypes is the condition on the events a lifecycle reads: the status
// events and TASK_STARTED, which tells a retry from a silent recovery. It is
// written out as the partial index events_user_lifecycle (migration 00019)
// writes it, literally, so the planner can use that index.
const lifecycleTypes = "type IN ('ACCOUNT_CREATED', 'ACCOUNT_CONNECTED', 'ACCOUNT_FAILED', 'ACCOUNT_DISCONNECTED', 'TASK_STARTED')"

// lifecycleRow is what a lifecycle reads of an event: its columns, and the
// body only of a failure, for its error code.
type lifecycleRow struct {
	AccountID string    `gorm:"column:account_id"`
	EventID   string    `gorm:"column:event_id"`
	Type      string    `gorm:"column:type"`
	CreatedAt time.Time `gorm:"column:created_at"`
	Flags     string    `gorm:"column:flags"`
	Body      []byte    `gorm:"column:body"`
}

// lifecycleColumns selects a lifecycleRow.
const lifecycleColumns = "account_id, event_id, type, created_at, flags, CASE WHEN type = 'ACCOUNT_FAILED' THEN body END AS body"

// AccountLifecycle reads an account's lifecycle from its newest
// maxLifecycleEvents status and task events, through the per-user event
// index: the cost follows the account's user, not the store.
func (s *Store) AccountLifecycle(ctx context.Context, accountID string, now time.Time) (Lifecycle, error) {
	var acc Account
	if err := s.db.WithContext(ctx).Select("id", "user_key").Where("id = ?", accountID).Take(&acc).Error; err != nil {
		return Lifecycle{}, fmt.Errorf("models: account %s: %w", accountID, notFound(err))
	}
	var rows []lifecycleRow
	err := s.db.WithContext(ctx).Table("events").Select(lifecycleColumns).
		Where("user_key = ? AND account_id = ? AND "+lifecycleTypes, acc.UserKey, accountID).
		Order("created_at DESC, seq DESC").Limit(maxLifecycleEvents + 1).Find(&rows).Error
	if err != nil {
		return Lifecycle{}, fmt.Errorf("models: lifecycle of %s: %w", accountID, err)
	}
	return lifecyclesOf(acc.UserKey, rows, now)[accountID], nil
}

// maxUserLifecycleEvents bounds what UserLifecycles reads for one user.
const maxUserLifecycleEvents = 4 * maxLifecycleEvents

// UserLifecycles reads the lifecycle of every account of a user in one pass
// over the user's newest status and task events (at most
// maxUserLifecycleEvents, and maxLifecycleEvents per account), so a user page
// costs one read of the user's events, not one per account.
func (s *Store) UserLifecycles(ctx context.Context, userKey int64, now time.Time) (map[string]Lifecycle, error) {
	var rows []lifecycleRow
	err := s.db.WithContext(ctx).Table("events").Select(lifecycleColumns).
		Where("user_key = ? AND "+lifecycleTypes+" AND account_id <> ''", userKey).
		Order("created_at DESC, seq DESC").Limit(maxUserLifecycleEvents + 1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: lifecycles of user %d: %w", userKey, err)
	}
	truncated := len(rows) > maxUserLifecycleEvents
	if truncated {
		rows = rows[:maxUserLifecycleEvents]
	}
	out := lifecyclesOf(userKey, rows, now)
	if truncated {
		for id, lc := range out {
			lc.Truncated = true
			out[id] = lc
		}
	}
	return out, nil
}

// lifecyclesOf builds each account's lifecycle from its events, newest first,
// keeping the newest maxLifecycleEvents of each. Stamps are the projections':
// createdAt, the rank of the state the event type sets, the event id.
func lifecyclesOf(userKey int64, rows []lifecycleRow, now time.Time) map[string]Lifecycle {
	byAccount := map[string][]LifecycleEvent{}
	out := map[string]Lifecycle{}
	for _, row := range rows {
		lc := out[row.AccountID]
		lc.AccountID, lc.UserKey = row.AccountID, userKey
		if len(byAccount[row.AccountID]) >= maxLifecycleEvents {
			lc.Truncated = true
			out[row.AccountID] = lc
			continue
		}
		out[row.AccountID] = lc
		if HasFlag(row.Flags, smile.FlagCreatedAtFuture) {
			continue // drives no state in the projections either
		}
		typ := smile.EventType(row.Type)
		ev := LifecycleEvent{Stamp: Stamp{At: row.CreatedAt, Rank: LifecycleRank(typ, smile.EventData{}), EventID: row.EventID}, Type: typ}
		if len(row.Body) > 0 {
			if env, err := ParseStoredBody(row.Body); err == nil && env.Data.ErrorCode != nil {
				ev.ErrorCode = *env.Data.ErrorCode
			}
		}
		byAccount[row.AccountID] = append(byAccount[row.AccountID], ev)
	}
	for id, lc := range out {
		lc.Steps = BuildLifecycle(byAccount[id], now)
		out[id] = lc
	}
	return out
}
