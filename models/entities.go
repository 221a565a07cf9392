package models

import "time"

// Stamp orders events the way projections do: by Smile's createdAt, then by
// Smile's lifecycle rank of the state the event sets (Smile stamps createdAt to
// the second and sends ACCOUNT_CREATED and ACCOUNT_CONNECTED in the same one),
// then by the event id. A projected value remembers the stamp of the event that
// set it, and only a later stamp may replace it, so late, older events never
// move state backwards and the result does not depend on arrival order.
type Stamp struct {
	At time.Time
	// Rank is the lifecycle rank of the state the event sets (LifecycleRank);
	// 0 for values no lifecycle orders.
	Rank    int
	EventID string
}

// After reports whether s orders after o. The zero Stamp orders before all others.
func (s Stamp) After(o Stamp) bool {
	if !s.At.Equal(o.At) {
		return s.At.After(o.At)
	}
	if s.Rank != o.Rank {
		return s.Rank > o.Rank
	}
	return s.EventID > o.EventID
}

// SmileUser is a user of Smile, as seen in events or created by a connect link.
type SmileUser struct {
	UserKey        int64      `gorm:"column:user_key;primaryKey"`
	ID             string     `gorm:"column:id;<-:create"`
	SmileCreatedAt *time.Time `gorm:"column:created_at" proj:"created"`
	FirstSeenAt    *time.Time `gorm:"column:first_seen_at" proj:"activity"`
	LastSeenAt     *time.Time `gorm:"column:last_seen_at" proj:"activity"`
	EventCount     int64      `gorm:"column:event_count" proj:"activity"`
	SessionStatus  string     `gorm:"column:session_status" proj:"session"`
	SessionChannel string     `gorm:"column:session_channel" proj:"session"`
	SessionAt      *time.Time `gorm:"column:session_at" proj:"session"`
	SessionRank    int        `gorm:"column:session_rank" proj:"session"`
	SessionEventID string     `gorm:"column:session_event_id" proj:"session"`
}

// TableName implements gorm's tabler.
func (SmileUser) TableName() string { return "smile_users" }

// Account statuses: Smile's connection statuses (Account.connectionStatus),
// as the account webhooks set them. No webhook announces AWAITING_MFA; it is
// listed because Smile's API reports it.
const (
	AccountPending      = "PENDING"
	AccountAwaitingMFA  = "AWAITING_MFA"
	AccountConnected    = "CONNECTED"
	AccountError        = "ERROR"
	AccountDisconnected = "DISCONNECTED"
)

// AccountStatuses lists the connection statuses in Smile's lifecycle order.
var AccountStatuses = []string{AccountPending, AccountAwaitingMFA, AccountConnected, AccountError, AccountDisconnected}

// Account is a payroll or government account a user linked through Smile.
type Account struct {
	ID              string     `gorm:"column:id;primaryKey"`
	UserKey         int64      `gorm:"column:user_key;<-:create"`
	ProviderID      string     `gorm:"column:provider_id" proj:"provider"`
	ProviderAt      *time.Time `gorm:"column:provider_at" proj:"provider_stamp"`
	ProviderEventID string     `gorm:"column:provider_event_id" proj:"provider_stamp"`
	Status          string     `gorm:"column:status" proj:"status"`
	ErrorCode       string     `gorm:"column:error_code" proj:"status"`
	ErrorMessage    string     `gorm:"column:error_message" proj:"status"`
	StatusAt        *time.Time `gorm:"column:status_at" proj:"status"`
	StatusRank      int        `gorm:"column:status_rank" proj:"status"`
	StatusEventID   string     `gorm:"column:status_event_id" proj:"status"`
	LoginName       string     `gorm:"column:login_name" proj:"login"`
	LoginAt         *time.Time `gorm:"column:login_at" proj:"login"`
	LoginEventID    string     `gorm:"column:login_event_id" proj:"login"`
	MonitorStatus   string     `gorm:"column:monitor_status" proj:"monitor"`
	MonitorAt       *time.Time `gorm:"column:monitor_at" proj:"monitor"`
	MonitorEventID  string     `gorm:"column:monitor_event_id" proj:"monitor"`
	FirstSeenAt     time.Time  `gorm:"column:first_seen_at" proj:"activity"`
	LastSeenAt      time.Time  `gorm:"column:last_seen_at" proj:"activity"`
	EventCount      int64      `gorm:"column:event_count" proj:"activity"`
}

// TableName implements gorm's tabler.
func (Account) TableName() string { return "accounts" }

// Archive is a set of documents a user uploaded (Smile's archives).
type Archive struct {
	ID            string     `gorm:"column:id;primaryKey"`
	UserKey       int64      `gorm:"column:user_key;<-:create"`
	Status        string     `gorm:"column:status" proj:"status"`
	ErrorCode     string     `gorm:"column:error_code" proj:"status"`
	ErrorMessage  string     `gorm:"column:error_message" proj:"status"`
	StatusAt      *time.Time `gorm:"column:status_at" proj:"status"`
	StatusRank    int        `gorm:"column:status_rank" proj:"status"`
	StatusEventID string     `gorm:"column:status_event_id" proj:"status"`
	FirstSeenAt   time.Time  `gorm:"column:first_seen_at" proj:"activity"`
	LastSeenAt    time.Time  `gorm:"column:last_seen_at" proj:"activity"`
}

// TableName implements gorm's tabler.
func (Archive) TableName() string { return "archives" }

// Invite is an invitation Smile sent to a user.
type Invite struct {
	ID            string     `gorm:"column:id;primaryKey"`
	UserKey       int64      `gorm:"column:user_key;<-:create"`
	Status        string     `gorm:"column:status"`
	StatusAt      *time.Time `gorm:"column:status_at"`
	StatusRank    int        `gorm:"column:status_rank"`
	StatusEventID string     `gorm:"column:status_event_id"`
	InvitedAt     *time.Time `gorm:"column:invited_at"`
	LinkedAt      *time.Time `gorm:"column:linked_at"`
}

// TableName implements gorm's tabler.
func (Invite) TableName() string { return "invites" }

// TaskTypeUpdateAccount is Smile's TaskType of an account refresh: the task
// behind ACCOUNT_SYNC_TASK_FINISHED, which carries no task type of its own.
const TaskTypeUpdateAccount = "UPDATE_ACCOUNT"

// Task is the latest run of a data-sync task for a source.
type Task struct {
	SourceID      string     `gorm:"column:source_id;primaryKey"`
	TaskType      string     `gorm:"column:task_type;primaryKey"`
	UserKey       int64      `gorm:"column:user_key;<-:create"`
	SourceType    string     `gorm:"column:source_type"`
	Status        string     `gorm:"column:status"`
	ErrorCode     string     `gorm:"column:error_code"`
	Datapoints    string     `gorm:"column:datapoints"`
	StatusAt      *time.Time `gorm:"column:status_at"`
	StatusRank    int        `gorm:"column:status_rank"`
	StatusEventID string     `gorm:"column:status_event_id"`
	StartedAt     *time.Time `gorm:"column:started_at"`
	FinishedAt    *time.Time `gorm:"column:finished_at"`
	Runs          int64      `gorm:"column:runs"`
}

// TableName implements gorm's tabler.
func (Task) TableName() string { return "tasks" }

// DataAvailability is what one account has made available of one datapoint.
type DataAvailability struct {
	AccountID     string    `gorm:"column:account_id;primaryKey"`
	Datapoint     string    `gorm:"column:datapoint;primaryKey"`
	UserKey       int64     `gorm:"column:user_key;<-:create"`
	ItemsAdded    int64     `gorm:"column:items_added"`
	ItemsUpdated  int64     `gorm:"column:items_updated"`
	Events        int64     `gorm:"column:events"`
	InTask        bool      `gorm:"column:in_task"`
	LastUpdatedAt time.Time `gorm:"column:last_updated_at"`
}

// TableName implements gorm's tabler.
func (DataAvailability) TableName() string { return "data_availability" }

// Record is a social-security record (RECORD_* webhooks).
type Record struct {
	ID            string     `gorm:"column:id;primaryKey"`
	RecordType    string     `gorm:"column:record_type"`
	Status        string     `gorm:"column:status"`
	ResultCode    string     `gorm:"column:result_code"`
	ResultMessage string     `gorm:"column:result_message"`
	StatusAt      *time.Time `gorm:"column:status_at"`
	StatusRank    int        `gorm:"column:status_rank"`
	StatusEventID string     `gorm:"column:status_event_id"`
	FirstSeenAt   time.Time  `gorm:"column:first_seen_at"`
}

// TableName implements gorm's tabler.
func (Record) TableName() string { return "records" }

// Verification is an identity verification request (VERIFICATION_* webhooks).
type Verification struct {
	ID            string     `gorm:"column:id;primaryKey"`
	Status        string     `gorm:"column:status"`
	ResultCode    string     `gorm:"column:result_code"`
	ResultMessage string     `gorm:"column:result_message"`
	StatusAt      *time.Time `gorm:"column:status_at"`
	StatusRank    int        `gorm:"column:status_rank"`
	StatusEventID string     `gorm:"column:status_event_id"`
	FirstSeenAt   time.Time  `gorm:"column:first_seen_at"`
}

// TableName implements gorm's tabler.
func (Verification) TableName() string { return "verifications" }

// EventCount is the maintained number of stored events of one type.
type EventCount struct {
	Type   string `gorm:"column:type;primaryKey"`
	Stored int64  `gorm:"column:stored"`
}

// TableName implements gorm's tabler.
func (EventCount) TableName() string { return "event_counts" }

// Event is one stored webhook.
type Event struct {
	Seq        int64     `gorm:"column:seq;primaryKey"`
	EventID    string    `gorm:"column:event_id"`
	Type       string    `gorm:"column:type"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
	ReceivedAt time.Time `gorm:"column:received_at"`
	UserKey    *int64    `gorm:"column:user_key"`
	// PendingUser is the Smile user id of an event whose user_key the
	// projector has not resolved yet (SQLite defers creating users to it);
	// "" once resolved, or when the event names no user.
	PendingUser string `gorm:"column:pending_user"`
	AccountID   string `gorm:"column:account_id"`
	SourceIP    string `gorm:"column:source_ip"`
	SecretIndex int    `gorm:"column:secret_index"`
	Deliveries  int64  `gorm:"column:deliveries"`
	// Flags name what was odd about the event (smile.FlagCreatedAtNoZone,
	// smile.FlagCreatedAtFuture), comma-separated; "" for a clean one.
	Flags string `gorm:"column:flags"`
	Body  []byte `gorm:"column:body"`
}

// TableName implements gorm's tabler.
func (Event) TableName() string { return "events" }

// Delivery outcomes and reasons recorded for attempts that are not an event's
// first stored delivery.
const (
	OutcomeDuplicate = "duplicate"
	OutcomeRejected  = "rejected"

	ReasonDuplicate         = "duplicate"
	ReasonSignatureMissing  = "signature_missing"
	ReasonSignatureMismatch = "signature_mismatch"
	ReasonIPRefused         = "ip_refused"
	ReasonTooLarge          = "too_large"
	ReasonEncodingRefused   = "encoding_refused"
	ReasonBadEnvelope       = "bad_envelope"
	ReasonStoreUnavailable  = "store_unavailable"
	// ReasonBadSignature is what earlier versions recorded for a missing and a
	// wrong signature alike; old rows keep it.
	ReasonBadSignature = "bad_signature"
)

// Delivery is a webhook attempt other than an event's first stored delivery.
type Delivery struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	ReceivedAt time.Time `gorm:"column:received_at"`
	SourceIP   string    `gorm:"column:source_ip"`
	Outcome    string    `gorm:"column:outcome"`
	Reason     string    `gorm:"column:reason"`
	Status     int       `gorm:"column:status"`
	EventID    string    `gorm:"column:event_id"`
	EventType  string    `gorm:"column:event_type"`
	BodyBytes  int       `gorm:"column:body_bytes"`
	Excerpt    string    `gorm:"column:excerpt"`
}

// TableName implements gorm's tabler.
func (Delivery) TableName() string { return "deliveries" }
