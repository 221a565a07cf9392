package handlers

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/views"
)

// AccessStore is what the admins, API tokens and audit pages need of the store.
type AccessStore interface {
	Admins(ctx context.Context) ([]auth.Admin, error)
	CreateAdmin(ctx context.Context, in auth.NewAdmin, now time.Time) (auth.Admin, error)
	SetAdminRole(ctx context.Context, id int64, role string, by int64) (auth.Admin, error)
	RemoveAdmin(ctx context.Context, id, by int64) (auth.Admin, error)
	APITokens(ctx context.Context) ([]auth.APIToken, error)
	CreateAPIToken(ctx context.Context, in auth.NewAPIToken, now time.Time) (string, auth.APIToken, error)
	RevokeAPIToken(ctx context.Context, id int64, now time.Time) error
}

var _ AccessStore = (*auth.Store)(nil)

func (h *Handler) access() AccessStore { return h.deps.Stores.Auth }

// AuditStore is the audit log: every page that changes who may do what
// records to it, and the audit page reads it.
type AuditStore interface {
	RecordAudit(ctx context.Context, e models.AuditEntry) error
	AuditLog(ctx context.Context, q models.AuditQuery) (models.AuditPage, error)
}

var _ AuditStore = (*models.Store)(nil)

func (h *Handler) auditLog() AuditStore { return h.deps.Stores.Audit }

// listAdmins is GET /admin/admins.
func (h *Handler) listAdmins(c *fiber.Ctx) error {
	vm, err := h.adminsVM(c, views.AdminFormVM{Role: RoleViewer})
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.AdminsPage(vm))
}

// createAdmin is POST /admin/admins (email, role, optional password). An
// invalid email or role, a taken email or a weak or overlong password
// re-renders the form with 422 and stores nothing. Without a password
// smiledash chooses one and shows it in this response only (not cached).
// A repeated submission finds the email taken.
func (h *Handler) createAdmin(c *fiber.Ctx) error {
	form := views.AdminFormVM{Email: strings.TrimSpace(c.FormValue("email")), Role: c.FormValue("role")}
	password, generated := c.FormValue("password"), false
	if password == "" {
		p, err := auth.NewPassword()
		if err != nil {
			return err
		}
		password, generated = p, true
	}
	a, err := h.access().CreateAdmin(c.UserContext(), auth.NewAdmin{Email: form.Email, Password: password, Role: form.Role}, h.now())
	if field, msg := adminFormError(err); field != "" {
		form.Errors = map[string]string{field: msg}
		vm, verr := h.adminsVM(c, form)
		if verr != nil {
			return verr
		}
		return render(c, fiber.StatusUnprocessableEntity, views.AdminsPage(vm))
	}
	if err != nil {
		return err
	}
	h.audit(c, models.AuditEntry{Action: models.AuditAdminCreated, Target: adminTarget(a), Details: "role " + a.Role})
	vm, err := h.adminsVM(c, views.AdminFormVM{Role: RoleViewer})
	if err != nil {
		return err
	}
	vm.Created = &views.CreatedAdminVM{Email: a.Email, Role: a.Role}
	if generated {
		vm.Created.Password = password
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return render(c, fiber.StatusOK, views.AdminsPage(vm))
}

// adminFormError maps a CreateAdmin error to the form field it is about.
func adminFormError(err error) (field, msg string) {
	switch {
	case errors.Is(err, auth.ErrInvalidEmail):
		return "email", "Enter an email address, like name@example.com."
	case errors.Is(err, auth.ErrAdminExists):
		return "email", "Someone with this email can already sign in."
	case errors.Is(err, auth.ErrInvalidRole):
		return "role", "Choose admin or viewer."
	case errors.Is(err, auth.ErrPasswordTooWeak):
		return "password", "Use at least " + strconv.Itoa(auth.MinPasswordLength) + " characters, or leave it empty."
	case errors.Is(err, auth.ErrPasswordTooLong):
		return "password", "Use at most " + strconv.Itoa(auth.MaxPasswordBytes) + " bytes."
	}
	return "", ""
}

// changeAdminRole is POST /admin/admins/:id/role (role=admin|viewer): 303
// back to the list. A bad id is 400, an unknown one 404, an unknown role 422;
// changing your own role or demoting the last admin re-renders the list with
// 409 and the reason. Setting the role an account already has changes nothing
// but is recorded like any other request.
func (h *Handler) changeAdminRole(c *fiber.Ctx) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	me, _ := currentAdmin(c)
	role := c.FormValue("role")
	before, err := h.access().SetAdminRole(c.UserContext(), id, role, me.ID)
	if errors.Is(err, auth.ErrInvalidRole) {
		return &Error{Status: fiber.StatusUnprocessableEntity, Public: "Choose admin or viewer.", Err: err}
	}
	if err != nil {
		return h.refusedAdminChange(c, err)
	}
	h.audit(c, models.AuditEntry{Action: models.AuditAdminRole, Target: adminTarget(before), Details: before.Role + " to " + role})
	return c.Redirect("/admin/admins", fiber.StatusSeeOther)
}

// removeAdmin is POST /admin/admins/:id/remove: the account and its sessions
// are deleted, 303 back to the list. A bad id is 400, an unknown (or already
// removed) one 404; removing yourself or the last admin is 409 with the reason.
func (h *Handler) removeAdmin(c *fiber.Ctx) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	me, _ := currentAdmin(c)
	removed, err := h.access().RemoveAdmin(c.UserContext(), id, me.ID)
	if err != nil {
		return h.refusedAdminChange(c, err)
	}
	h.audit(c, models.AuditEntry{Action: models.AuditAdminRemoved, Target: adminTarget(removed), Details: "was " + removed.Role})
	return c.Redirect("/admin/admins", fiber.StatusSeeOther)
}

// refusedAdminChange shows the list with why a change was refused (409), or
// returns err when it is not such a refusal.
func (h *Handler) refusedAdminChange(c *fiber.Ctx, err error) error {
	var problem string
	switch {
	case errors.Is(err, auth.ErrLastAdmin):
		problem = "This is the last admin: make someone else an admin first, so someone can always manage smiledash."
	case errors.Is(err, auth.ErrOwnAccount):
		problem = "You cannot change your own role or remove yourself; ask another admin."
	default:
		return err
	}
	vm, verr := h.adminsVM(c, views.AdminFormVM{Role: RoleViewer})
	if verr != nil {
		return verr
	}
	vm.Problem = problem
	return render(c, fiber.StatusConflict, views.AdminsPage(vm))
}

func (h *Handler) adminsVM(c *fiber.Ctx, form views.AdminFormVM) (views.AdminsPageVM, error) {
	list, err := h.access().Admins(c.UserContext())
	if err != nil {
		return views.AdminsPageVM{}, err
	}
	vm := views.AdminsPageVM{LayoutVM: h.accessLayout(c, "Admins"), Form: form}
	me, _ := currentAdmin(c)
	for _, a := range list {
		id := strconv.FormatInt(a.ID, 10)
		row := views.AdminRowVM{ID: a.ID, Email: a.Email, Role: a.Role, CreatedAt: a.CreatedAt, IsYou: a.ID == me.ID,
			RoleURL: "/admin/admins/" + id + "/role", RemoveURL: "/admin/admins/" + id + "/remove"}
		if a.LastSignInAt != nil {
			row.LastSignInAt = *a.LastSignInAt
		}
		vm.Admins = append(vm.Admins, row)
	}
	return vm, nil
}

// accessLayout is the layout of the access pages, with the copy buttons and
// confirmations of links.js.
func (h *Handler) accessLayout(c *fiber.Ctx, title string) views.LayoutVM {
	lv := h.layout(c, title, "access")
	lv.Scripts = append(lv.Scripts, h.deps.Assets.URL("js/links.js"))
	return lv
}

func adminTarget(a auth.Admin) string {
	return "admin " + strconv.FormatInt(a.ID, 10) + " " + a.Email
}

// audit records an action of the signed-in admin (or API token). The action
// is already done when this runs, so a failure to record it is logged at
// Error rather than turned into a failed response.
func (h *Handler) audit(c *fiber.Ctx, e models.AuditEntry) {
	if a, ok := currentAdmin(c); ok {
		e = e.ByAdmin(a)
	} else if tok, ok := c.Locals(localAPIToken).(auth.APIToken); ok && e.Actor == "" {
		e.Actor = "API token " + strconv.FormatInt(tok.ID, 10) + " " + tok.Name
	}
	if e.At.IsZero() {
		e.At = h.now()
	}
	if err := h.auditLog().RecordAudit(c.UserContext(), e); err != nil {
		h.log.Error("Recording an audit entry failed", slog.String("action", e.Action), slog.Any("error", err))
	}
}

// auditSignInFailed records a failed sign-in. The typed email is recorded only
// when it is an admin's: anything else anyone typed stays out of the log.
func (h *Handler) auditSignInFailed(c *fiber.Ctx, email string) {
	e := models.AuditEntry{Action: models.AuditSignInFailed, Target: "an unknown email"}
	if a, err := h.authStore().AdminByEmail(c.UserContext(), email); err == nil {
		e.Target = adminTarget(a)
	}
	h.audit(c, e)
}

func linkTarget(id int64) string { return "link " + strconv.FormatInt(id, 10) }
