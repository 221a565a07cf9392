package smile

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// EventType is the envelope `type`. Smile adds types over time, so any string is
// a valid EventType; Known tells whether we understand it.
type EventType string

// The 37 concrete webhook types of smile-api.md §2.7 (ALL_EVENTS is only a subscription wildcard).
const (
	UserCreated             EventType = "USER_CREATED"
	AccountCreated          EventType = "ACCOUNT_CREATED"
	AccountConnected        EventType = "ACCOUNT_CONNECTED"
	AccountDisconnected     EventType = "ACCOUNT_DISCONNECTED"
	AccountFailed           EventType = "ACCOUNT_FAILED"
	TaskStarted             EventType = "TASK_STARTED"
	TaskFinished            EventType = "TASK_FINISHED"
	AccountSyncTaskFinished EventType = "ACCOUNT_SYNC_TASK_FINISHED"
	ArchiveStarted          EventType = "ARCHIVE_STARTED"
	ArchiveAnalyzed         EventType = "ARCHIVE_ANALYZED"
	ArchiveRevoked          EventType = "ARCHIVE_REVOKED"
	ArchiveFailed           EventType = "ARCHIVE_FAILED"
	InviteInvited           EventType = "INVITE_INVITED"
	InviteLinked            EventType = "INVITE_LINKED"
	IdentityAdded           EventType = "IDENTITY_ADDED"
	RatingAdded             EventType = "RATING_ADDED"
	TransactionsAdded       EventType = "TRANSACTIONS_ADDED"
	DocumentsAdded          EventType = "DOCUMENTS_ADDED"
	EmploymentsAdded        EventType = "EMPLOYMENTS_ADDED"
	IncomesAdded            EventType = "INCOMES_ADDED"
	EincomesAdded           EventType = "EINCOMES_ADDED"
	ContributionsAdded      EventType = "CONTRIBUTIONS_ADDED"
	LiabilitiesAdded        EventType = "LIABILITIES_ADDED"
	InsightAdded            EventType = "INSIGHT_ADDED"
	LinkAdded               EventType = "LINK_ADDED"
	RecordCreated           EventType = "RECORD_CREATED"
	RecordCompleted         EventType = "RECORD_COMPLETED"
	DocumentsUpdated        EventType = "DOCUMENTS_UPDATED"
	EmploymentsUpdated      EventType = "EMPLOYMENTS_UPDATED"
	LiabilitiesUpdated      EventType = "LIABILITIES_UPDATED"
	IncomesUpdated          EventType = "INCOMES_UPDATED"
	ContributionsUpdated    EventType = "CONTRIBUTIONS_UPDATED"
	EincomesUpdated         EventType = "EINCOMES_UPDATED"
	VerificationStarted     EventType = "VERIFICATION_STARTED"
	VerificationCompleted   EventType = "VERIFICATION_COMPLETED"
	UserSessionCompleted    EventType = "USER_SESSION_COMPLETED"
	UserSessionReset        EventType = "USER_SESSION_RESET"
)

// EventTypes lists every known type, in the order of smile-api.md §2.7.
var EventTypes = []EventType{
	UserCreated, AccountCreated, AccountConnected, AccountDisconnected, AccountFailed,
	TaskStarted, TaskFinished, AccountSyncTaskFinished,
	ArchiveStarted, ArchiveAnalyzed, ArchiveRevoked, ArchiveFailed,
	InviteInvited, InviteLinked,
	IdentityAdded, RatingAdded, TransactionsAdded, DocumentsAdded, EmploymentsAdded,
	IncomesAdded, EincomesAdded, ContributionsAdded, LiabilitiesAdded, InsightAdded, LinkAdded,
	RecordCreated, RecordCompleted,
	DocumentsUpdated, EmploymentsUpdated, LiabilitiesUpdated, IncomesUpdated,
	ContributionsUpdated, EincomesUpdated,
	VerificationStarted, VerificationCompleted, UserSessionCompleted, UserSessionReset,
}

// Known reports whether t is one of the 37 documented types.
func (t EventType) Known() bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Datapoint names a kind of data an account can make available. The names follow
// the *_ADDED event types (IDENTITY, EMPLOYMENTS, ...).
type Datapoint string

// Datapoints, one per *_ADDED event.
const (
	DatapointIdentity      Datapoint = "IDENTITY"
	DatapointRating        Datapoint = "RATING"
	DatapointTransactions  Datapoint = "TRANSACTIONS"
	DatapointDocuments     Datapoint = "DOCUMENTS"
	DatapointEmployments   Datapoint = "EMPLOYMENTS"
	DatapointIncomes       Datapoint = "INCOMES"
	DatapointEincomes      Datapoint = "EINCOMES"
	DatapointContributions Datapoint = "CONTRIBUTIONS"
	DatapointLiabilities   Datapoint = "LIABILITIES"
	DatapointInsight       Datapoint = "INSIGHT"
	DatapointLink          Datapoint = "LINK"
)

// DataChange says how an event changes data availability.
type DataChange int

// Kinds of data change.
const (
	NoDataChange DataChange = iota
	DataAdded
	DataUpdated
)

// DataEvent tells which datapoint an *_ADDED or *_UPDATED event concerns.
func (t EventType) DataEvent() (Datapoint, DataChange) {
	s := string(t)
	if d, ok := strings.CutSuffix(s, "_ADDED"); ok && t.Known() {
		return Datapoint(d), DataAdded
	}
	if d, ok := strings.CutSuffix(s, "_UPDATED"); ok && t.Known() {
		return Datapoint(d), DataUpdated
	}
	return "", NoDataChange
}

// TaskDatapoint maps the datapoint names used in TASK_FINISHED.datapoints
// (IDENTITIES, RATINGS, INSIGHTS, ...) to ours.
func TaskDatapoint(name string) Datapoint {
	switch name {
	case "IDENTITIES":
		return DatapointIdentity
	case "RATINGS":
		return DatapointRating
	case "INSIGHTS":
		return DatapointInsight
	}
	return Datapoint(name)
}

// EventData is the union of the `data` fields the projections read. Every field
// is optional: a type fills only its own, and unknown fields are ignored.
type EventData struct {
	UserID     string   `json:"userId"`
	AccountID  string   `json:"accountId"`
	Providers  []string `json:"providers"`
	LoginName  *string  `json:"loginName"`
	ErrorCode  *string  `json:"errorCode"`
	ErrorMsg   *string  `json:"errorMessage"`
	Count      *Number  `json:"count"`
	ID         string   `json:"id"` // insight or link id
	IdentityID string   `json:"identityId"`
	RatingID   string   `json:"ratingId"`

	SourceID      string   `json:"sourceId"`
	SourceType    string   `json:"sourceType"`
	TaskType      string   `json:"taskType"`
	Status        string   `json:"status"`
	MonitorStatus string   `json:"monitorStatus"`
	Datapoints    []string `json:"datapoints"`
	// DataPoints is the spelling of Smile's ACCOUNT_SYNC_TASK_FINISHED sample (§8 item 7).
	DataPoints []string `json:"dataPoints"`

	ArchiveID string `json:"archiveId"`
	InviteID  string `json:"inviteId"`

	RecordID       string  `json:"recordId"`
	RecordType     string  `json:"recordType"`
	VerificationID string  `json:"verificationId"`
	ResultCode     string  `json:"resultCode"`
	ResultMessage  *string `json:"resultMessage"`

	Session *UserSession `json:"session"`
}

// Number is a JSON number that Smile may also send as a string ("count":"3"):
// both read as the number.
type Number float64

// UnmarshalJSON reads a number, or a string holding one.
func (n *Number) UnmarshalJSON(b []byte) error {
	var f float64
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("smile: %q is not a number", s)
		}
		f = v
	} else if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Number(f)
	return nil
}

// UserSession is a user's session on a Wink Site (spec schema UserSession).
type UserSession struct {
	UserID    string  `json:"userId"`
	Channel   string  `json:"channel"`
	ChannelID *string `json:"channelId"`
	Status    string  `json:"status"`
}

// Subject returns the Smile user an event belongs to: data.userId, or the
// session's user for the USER_SESSION_* types. Records and verifications have none.
func (d EventData) Subject() string {
	if d.UserID != "" {
		return d.UserID
	}
	if d.Session != nil {
		return d.Session.UserID
	}
	return ""
}

// Account returns the account an event concerns: data.accountId, or sourceId for
// tasks whose source is an account.
func (d EventData) Account() string {
	if d.AccountID != "" {
		return d.AccountID
	}
	if d.SourceType == "ACCOUNT" {
		return d.SourceID
	}
	return ""
}

// Provider returns the first provider named by the event, or "".
func (d EventData) Provider() string {
	if len(d.Providers) > 0 {
		return d.Providers[0]
	}
	return ""
}

// TaskDatapoints returns the datapoints of a task event under either spelling.
func (d EventData) TaskDatapoints() []string {
	if len(d.Datapoints) > 0 {
		return d.Datapoints
	}
	return d.DataPoints
}
