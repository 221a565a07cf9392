package models

import (
	"strings"
	"time"

	"smiledash/smile"
)

// Smile stamps createdAt to the second and sends, for example, ACCOUNT_CREATED
// and ACCOUNT_CONNECTED within the same one. Events of equal createdAt are
// therefore ordered by Smile's lifecycle of the state they set, and only then
// by event id, so the projected state is the one Smile would report and is the
// same whatever order the events arrive in.

// accountLifecycle ranks Smile's connection statuses:
// PENDING < AWAITING_MFA < CONNECTED = ERROR < DISCONNECTED.
var accountLifecycle = map[string]int{
	AccountPending: 1, AccountAwaitingMFA: 2, AccountConnected: 3, AccountError: 3, AccountDisconnected: 4,
}

// AccountStatusOf maps the account webhooks to the connection status they set.
var AccountStatusOf = map[smile.EventType]string{
	smile.AccountCreated:      AccountPending,
	smile.AccountConnected:    AccountConnected,
	smile.AccountFailed:       AccountError,
	smile.AccountDisconnected: AccountDisconnected,
}

// Archive states (Smile's Archive.state.status): STARTED < ANALYZED =
// UNSUPPORTED = ERROR < REVOKED. ARCHIVE_FAILED sets ERROR.
var ArchiveStatusOf = map[smile.EventType]string{
	smile.ArchiveStarted: "STARTED", smile.ArchiveAnalyzed: "ANALYZED",
	smile.ArchiveFailed: "ERROR", smile.ArchiveRevoked: "REVOKED",
}

var archiveLifecycle = map[string]int{"STARTED": 1, "ANALYZED": 2, "UNSUPPORTED": 2, "ERROR": 2, "REVOKED": 3}

// Statuses of records and verifications, in Smile's words (SocialSecurity.status,
// Verification.status): PROCESSING until completed, then COMPLETED or ERROR.
const (
	StatusProcessing = "PROCESSING"
	StatusCompleted  = "COMPLETED"
)

// sessionLifecycle ranks Smile's UserSessionStatus: IN_PROGRESS < COMPLETED < REVOKED.
var sessionLifecycle = map[string]int{"IN_PROGRESS": 1, "COMPLETED": 2, "REVOKED": 3}

// LifecycleRank is the rank, in Smile's lifecycle, of the state an event sets:
// each event type sets the state of at most one entity with a lifecycle.
// Events that set no lifecycle state rank 0.
func LifecycleRank(t smile.EventType, d smile.EventData) int {
	if status, ok := AccountStatusOf[t]; ok {
		return accountLifecycle[status]
	}
	if status, ok := ArchiveStatusOf[t]; ok {
		return archiveLifecycle[status]
	}
	switch t {
	case smile.TaskStarted, smile.InviteInvited, smile.RecordCreated, smile.VerificationStarted:
		return 1 // started / invited / processing
	case smile.TaskFinished, smile.AccountSyncTaskFinished, smile.InviteLinked, smile.RecordCompleted, smile.VerificationCompleted:
		return 2 // finished / linked / completed or error
	}
	if d.Session != nil {
		return sessionLifecycle[d.Session.Status]
	}
	return 0
}

// EventFlags are the flags stored with an event: the envelope's, plus
// smile.FlagCreatedAtFuture when it is dated more than a day after receivedAt
// (an unknown, zero, receipt time flags nothing).
func EventFlags(env smile.Envelope, receivedAt time.Time) string {
	flags := env.Flags
	if !receivedAt.IsZero() && smile.FutureDated(env.CreatedAt, receivedAt) {
		flags = append(flags[:len(flags):len(flags)], smile.FlagCreatedAtFuture)
	}
	return strings.Join(flags, ",")
}

// HasFlag reports whether a stored flags value holds flag.
func HasFlag(flags, flag string) bool {
	for f := range strings.SplitSeq(flags, ",") {
		if f == flag {
			return true
		}
	}
	return false
}

// SplitFlags returns a stored flags value as a list (empty, never nil).
func SplitFlags(flags string) []string {
	if flags == "" {
		return []string{}
	}
	return strings.Split(flags, ",")
}

// Unranked is the stamp for values no lifecycle orders (provider, login name,
// monitor status): their stored stamps keep no rank, so ties go by event id.
func (s Stamp) Unranked() Stamp { return Stamp{At: s.At, EventID: s.EventID} }
