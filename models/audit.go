package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Audit actions. Each names what was done; the target says to what.
const (
	AuditSignIn         = "sign_in"
	AuditSignInFailed   = "sign_in_failed"
	AuditAdminCreated   = "admin_created"
	AuditAdminRole      = "admin_role_changed"
	AuditAdminRemoved   = "admin_removed"
	AuditTokenCreated   = "api_token_created"
	AuditTokenRevoked   = "api_token_revoked"
	AuditLinkCreated    = "link_created"
	AuditLinkRevoked    = "link_revoked"
	AuditReprojected    = "projections_rebuilt"
	AuditWebhookCreated = "webhook_registered"
	// AuditUserErased is an erasure (models/ingest). Its target is the user's
	// erasure key and its details the counts removed: no personal data.
	AuditUserErased = "user_erased"
)

// Bounds of audit text, so a long token name or link label cannot bloat the log.
const (
	auditActorMax   = 320
	auditTargetMax  = 200
	auditDetailsMax = 500
)

// AuditEntry is one recorded action. Actor is the acting admin's email (or
// "cli", "api token N"); ActorAdminID is nil when no signed-in admin acted.
// Entries never hold passwords, tokens or secrets, and no personal data but
// admins' emails.
type AuditEntry struct {
	ID           int64     `gorm:"column:id;primaryKey"`
	At           time.Time `gorm:"column:at"`
	ActorAdminID *int64    `gorm:"column:actor_admin_id"`
	Actor        string    `gorm:"column:actor"`
	Action       string    `gorm:"column:action"`
	Target       string    `gorm:"column:target"`
	Details      string    `gorm:"column:details"`
}

// TableName implements gorm's tabler.
func (AuditEntry) TableName() string { return "audit_log" }

// Actor is whoever acts in an audit entry: an admin account (auth.Admin).
type Actor interface {
	AuditActor() (adminID int64, email string)
}

// ByAdmin returns the entry as done by the signed-in admin a.
func (e AuditEntry) ByAdmin(a Actor) AuditEntry {
	id, email := a.AuditActor()
	e.ActorAdminID, e.Actor = &id, email
	return e
}

// RecordAudit appends an entry to the audit log, at e.At (now if zero).
func (s *Store) RecordAudit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	return InsertAudit(s.db.WithContext(ctx), e)
}

// InsertAudit appends an entry to the audit log in tx, so an action and its
// entry commit together (an erasure). e.At must be set.
func InsertAudit(tx *gorm.DB, e AuditEntry) error {
	e.ID = 0
	e.At = e.At.UTC()
	e.Actor = auditText(e.Actor, auditActorMax)
	e.Action = auditText(e.Action, 64)
	e.Target = auditText(e.Target, auditTargetMax)
	e.Details = auditText(e.Details, auditDetailsMax)
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("models: record audit %s: %w", e.Action, err)
	}
	return nil
}

// auditText bounds a string and removes what PostgreSQL text cannot hold.
func auditText(s string, n int) string {
	return clipText(strings.ReplaceAll(s, "\x00", ""), n)
}

// AuditQuery selects a page of the audit log, newest first.
type AuditQuery struct {
	// Before is the id the page starts below (exclusive); 0 starts at the newest.
	Before int64
	// Action keeps only entries of this action; "" keeps all.
	Action string
	Limit  int
}

// AuditPage is one page of the audit log and the cursor of the next (0 at the end).
type AuditPage struct {
	Entries []AuditEntry
	Next    int64
}

// AuditLog returns a keyset page of the audit log, newest first: the cost of
// a page does not grow with how deep it is.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) (AuditPage, error) {
	limit := pageSize(q.Limit)
	db := s.db.WithContext(ctx).Model(&AuditEntry{})
	if q.Before > 0 {
		db = db.Where("id < ?", q.Before)
	}
	if q.Action != "" {
		db = db.Where("action = ?", q.Action)
	}
	var list []AuditEntry
	if err := db.Order("id DESC").Limit(limit + 1).Find(&list).Error; err != nil {
		return AuditPage{}, fmt.Errorf("models: audit log: %w", err)
	}
	page := AuditPage{Entries: list}
	if len(list) > limit {
		page.Entries = list[:limit]
		page.Next = list[limit-1].ID
	}
	return page, nil
}

// clipText cuts s to at most n bytes of valid UTF-8.
func clipText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
