package handlers

import (
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// auditActions are the actions the audit page can filter by.
var auditActions = []string{
	models.AuditSignIn, models.AuditSignInFailed, models.AuditAdminCreated, models.AuditAdminRole,
	models.AuditAdminRemoved, models.AuditTokenCreated, models.AuditTokenRevoked, models.AuditLinkCreated,
	models.AuditLinkRevoked, models.AuditReprojected, models.AuditWebhookCreated, models.AuditUserErased,
	models.AuditExported,
}

// showAudit is GET /admin/audit[?action=A][&before=ID]: the audit log, newest
// first, a keyset page at a time. A malformed before is 400; an unknown
// action is 400 rather than an empty page that looks like nothing happened.
func (h *Handler) showAudit(c *fiber.Ctx) error {
	before, err := queryInt64(c, "before")
	if err != nil {
		return err
	}
	action := c.Query("action")
	if action != "" && !slices.Contains(auditActions, action) {
		return badRequest("There is no such action in the audit log.", nil)
	}
	page, err := h.auditLog().AuditLog(c.UserContext(), models.AuditQuery{Before: before, Action: action})
	if err != nil {
		return err
	}
	vm := views.AuditPageVM{LayoutVM: h.accessLayout(c, "Audit log"), Action: action, Actions: auditActions}
	for _, e := range page.Entries {
		vm.Entries = append(vm.Entries, views.AuditRowVM{At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Details: e.Details})
	}
	if page.Next != 0 {
		vm.OlderURL = withQuery("/admin/audit", "action", action, "before", strconv.FormatInt(page.Next, 10))
	}
	return render(c, fiber.StatusOK, views.AuditPage(vm))
}
