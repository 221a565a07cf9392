package models

import (
	"context"
	"database/sql"
	"fmt"
)

// AuditUserErased is the audit action of an erasure. Its target is the
// user's ErasureKey and its details the ErasureReport: no personal data.
const AuditUserErased = "user_erased"

// insertErasureAudit records the erasure in the same transaction as the
// erasure itself, so one never commits without the other.
//
// The audit log (table audit_log, models/audit.go) is being added on another
// branch; until it is merged the entry is an action about no user and no
// link, which no timeline shows but the database keeps. Once audit_log exists
// this becomes an INSERT INTO audit_log (at, actor, action, target, details)
// of (now, req.Actor, AuditUserErased, r.UserKey, r.AuditDetails()).
func (s *Store) insertErasureAudit(ctx context.Context, tx *sql.Tx, req EraseRequest, r ErasureReport) error {
	_, err := tx.ExecContext(ctx, s.rebind("INSERT INTO actions (at, kind, actor, account_id, detail) VALUES (?, ?, ?, '', ?)"),
		req.Now.UTC(), AuditUserErased, clipText(req.Actor, 320), []byte(r.AuditDetails()))
	if err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// ErasureAudits returns the recorded erasures, newest first.
func (s *Store) ErasureAudits(ctx context.Context) ([]Action, error) {
	var out []Action
	err := s.db.WithContext(ctx).Where("kind = ? AND user_key IS NULL AND link_id IS NULL", AuditUserErased).
		Order("id DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: erasure audits: %w", err)
	}
	return out, nil
}
