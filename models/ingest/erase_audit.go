package ingest

import (
	"gorm.io/gorm"

	"smiledash/models"
)

// insertErasureAudit records the erasure in the audit log in the same
// transaction as the erasure itself, so one never commits without the other.
func insertErasureAudit(tx *gorm.DB, req EraseRequest, r ErasureReport) error {
	return models.InsertAudit(tx, models.AuditEntry{At: req.Now, ActorAdminID: req.ActorAdminID, Actor: req.Actor,
		Action: models.AuditUserErased, Target: r.UserKey, Details: r.AuditDetails()})
}
