package handlers

import (
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/models/ingest"
	"smiledash/views"
)

// revoker is the Smile client the erasure may revoke accounts with (the
// sandbox's in sandbox mode); nil without one.
func (h *Handler) revoker() ingest.AccountRevoker {
	if h.deps.Connect.Smile == nil {
		return nil
	}
	return h.deps.Connect.Smile
}

// confirmEraseUser is GET /admin/users/:id/erase (admin role): what would go,
// and a field to type the user id into. An unknown id is a 404.
func (h *Handler) confirmEraseUser(c *fiber.Ctx) error {
	vm, err := h.eraseVM(c)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.EraseUserPage(vm))
}

// eraseVM describes the user named by the path whose erasure is being
// confirmed: both the confirmation page and the form's answer show it.
func (h *Handler) eraseVM(c *fiber.Ctx) (views.EraseUserPageVM, error) {
	id, err := pathParam(c, "id")
	if err != nil {
		return views.EraseUserPageVM{}, err
	}
	d, err := h.pages().UserDetail(c.UserContext(), id)
	if err != nil {
		return views.EraseUserPageVM{}, err
	}
	return views.EraseUserPageVM{
		LayoutVM: h.layout(c, "Erase user "+d.User.ID, "users"),
		ID:       d.User.ID, ExternalRefs: d.ExternalRefs, Events: d.User.EventCount, Accounts: len(d.Accounts),
		CanRevoke: h.revoker() != nil,
	}, nil
}

// eraseUser is POST /admin/users/:id/erase (admin role, CSRF token): the
// form's confirm_id must equal the user id exactly, or the page comes back
// with 422 and nothing is erased. With revoke_at_smile=yes the user's
// accounts are deleted at Smile first; if Smile refuses, nothing is erased
// and the page says so (502). On success the page lists what went; posting
// again finds nothing to erase (404).
func (h *Handler) eraseUser(c *fiber.Ctx) error {
	vm, err := h.eraseVM(c)
	if err != nil {
		return err
	}
	vm.Typed, vm.Revoke = c.FormValue("confirm_id"), c.FormValue("revoke_at_smile") == "yes"
	if vm.Typed != vm.ID {
		vm.Error = "Type the user id exactly as shown to confirm; nothing was erased."
		return render(c, fiber.StatusUnprocessableEntity, views.EraseUserPage(vm))
	}
	req := ingest.EraseRequest{SmileUserID: vm.ID, Actor: vm.AdminEmail, Now: h.now()}
	if a, ok := currentAdmin(c); ok {
		req.ActorAdminID = &a.ID
	}
	if vm.Revoke {
		if req.Revoker = h.revoker(); req.Revoker == nil {
			return badRequest("Revoking at Smile needs Smile credentials; nothing was erased.", nil)
		}
	}
	report, err := h.eventLog().EraseUser(c.UserContext(), req)
	if err != nil {
		if errors.Is(err, ingest.ErrRevokeRefused) {
			return &Error{Status: fiber.StatusBadGateway, Public: "Smile did not revoke the user's accounts, so nothing was erased. Try again later.", Err: err}
		}
		return err
	}
	h.log.Info("User erased", slog.String("user", report.UserKey), slog.String("actor", vm.AdminEmail),
		slog.Any("removed", report.Removed), slog.Int("revoked_at_smile", report.RevokedAtSmile))
	return render(c, fiber.StatusOK, views.ErasedPage(h.erasedVM(c, report)))
}

// erasedVM lists what an erasure removed, by table name, so the page reads
// the same for the same erasure.
func (h *Handler) erasedVM(c *fiber.Ctx, report ingest.ErasureReport) views.ErasedPageVM {
	done := views.ErasedPageVM{LayoutVM: h.layout(c, "User erased", "users"), AuditKey: report.UserKey, RevokedAtSmile: report.RevokedAtSmile}
	for what, n := range report.Removed {
		done.Removed = append(done.Removed, views.ErasedCountVM{What: what, N: n})
	}
	slices.SortFunc(done.Removed, func(a, b views.ErasedCountVM) int { return strings.Compare(a.What, b.What) })
	return done
}
