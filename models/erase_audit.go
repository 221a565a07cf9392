package models

import (
	"fmt"

	"gorm.io/gorm"
)

// AuditUserErased is the audit action of an erasure. Its target is the
// user's ErasureKey and its details the ErasureReport's counts: no personal
// data.
const AuditUserErased = "user_erased"

// insertErasureAudit records the erasure in the audit log in the same
// transaction as the erasure itself, so one never commits without the other.
func insertErasureAudit(tx *gorm.DB, req EraseRequest, r ErasureReport) error {
	err := tx.Exec("INSERT INTO audit_log (at, actor_admin_id, actor, action, target, details) VALUES (?, ?, ?, ?, ?, ?)",
		req.Now.UTC(), req.ActorAdminID, auditText(req.Actor, auditActorMax), AuditUserErased,
		auditText(r.UserKey, auditTargetMax), auditText(r.AuditDetails(), auditDetailsMax)).Error
	if err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}
