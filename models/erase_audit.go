package models

import (
	"context"
	"database/sql"
	"fmt"
)

// AuditUserErased is the audit action of an erasure. Its target is the
// user's ErasureKey and its details the ErasureReport's counts: no personal
// data.
const AuditUserErased = "user_erased"

// insertErasureAudit records the erasure in the audit log in the same
// transaction as the erasure itself, so one never commits without the other.
func (s *Store) insertErasureAudit(ctx context.Context, tx *sql.Tx, req EraseRequest, r ErasureReport) error {
	_, err := tx.ExecContext(ctx, s.rebind("INSERT INTO audit_log (at, actor_admin_id, actor, action, target, details) VALUES (?, ?, ?, ?, ?, ?)"),
		req.Now.UTC(), req.ActorAdminID, auditText(req.Actor, auditActorMax), AuditUserErased,
		auditText(r.UserKey, auditTargetMax), auditText(r.AuditDetails(), auditDetailsMax))
	if err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}
