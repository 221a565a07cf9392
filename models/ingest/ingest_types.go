package ingest

import (
	"log/slog"
	"smiledash/smile"
	"time"
)

// Incoming is a verified webhook on its way to the store.
type Incoming struct {
	Envelope    smile.Envelope
	Body        []byte // the exact raw body; the caller must not reuse it
	SourceIP    string
	SecretIndex int
	ReceivedAt  time.Time
}

// Result tells a webhook handler what happened to its event.
type Result int

// Results of Submit.
const (
	Stored Result = iota + 1
	Duplicate
)

// Rejection is a refused webhook attempt, recorded so an admin can debug a
// misconfigured secret or allowlist.
type Rejection struct {
	ReceivedAt time.Time
	SourceIP   string
	Reason     string
	Status     int
	EventID    string
	EventType  string
	BodyBytes  int
	Excerpt    string
}

// CommittedEvent describes a newly stored event to listeners (the live views).
type CommittedEvent struct {
	Seq       int64
	EventID   string
	Type      string
	UserKey   int64  // 0 while the projector has not resolved a new user (users.go)
	UserID    string // the Smile user id, "" when the event names none
	AccountID string
	CreatedAt time.Time
}

// BatchReport describes one group commit, for metrics and live views.
type BatchReport struct {
	Size       int
	Stored     []CommittedEvent
	Duplicates int
	// Rejections counts the refused attempts the batch carried; RejectionsLost
	// those whose records could not be stored (the events were, regardless).
	Rejections     int
	RejectionsLost int
	Duration       time.Duration
	Err            error
}

// DefaultIngestTimeout is how long a webhook waits for its commit by default.
const DefaultIngestTimeout = 10 * time.Second

// WriterOptions tunes the writer.
type WriterOptions struct {
	// MaxBatch caps how many webhooks one transaction commits. The writer takes
	// whatever is queued up to this, without waiting for more: under load batches
	// grow by themselves while the previous one is being fsynced.
	MaxBatch int
	// QueueSize bounds webhooks waiting for the writer; handlers block beyond it.
	QueueSize int
	// MaxDeliveries bounds the deliveries table (duplicates and rejections), so a
	// flood of bad requests cannot fill the disk.
	MaxDeliveries int
	// Timeout bounds how long a submission waits for its commit, lock waits
	// included (default DefaultIngestTimeout): past it the handler answers 503
	// and Smile retries, rather than the request hanging while a rebuild or
	// another replica holds the writer.
	Timeout time.Duration
	// OnBatch, if set, is called after every batch, from the writer goroutine.
	OnBatch func(BatchReport)
	Logger  *slog.Logger
	// Projector tunes the projector the writer starts (its Logger defaults
	// to Logger).
	Projector ProjectorOptions
}
