package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// checkUser is POST /admin/users/:id/check (admin role, CSRF): fetch the
// user's accounts from Smile, compare them field by field with ours, record
// the check on the user's timeline, then 303 back to the user page, which
// shows the latest check. An unknown user is a 404; without Smile credentials
// (outside the sandbox) a 400. Smile failing is not an error of ours: the
// check is recorded with Smile's answer in plain words. Posting twice checks
// twice (each check is its own timeline entry).
func (h *Handler) checkUser(c *fiber.Ctx) error {
	if h.deps.Recon.Smile == nil {
		return badRequest("Check with Smile needs Smile API credentials.", nil)
	}
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.recon().CheckUser(c.UserContext(), h.deps.Recon.Smile, id, h.layout(c, "", "").AdminEmail, h.now()); err != nil {
		return err
	}
	return redirect(c, userURL(id)+"#check")
}

// checkAccount is POST /admin/accounts/:id/check (admin role, CSRF): the same
// check for one account, then 303 to its user's page. An account we do not
// hold is a 404.
func (h *Handler) checkAccount(c *fiber.Ctx) error {
	if h.deps.Recon.Smile == nil {
		return badRequest("Check with Smile needs Smile API credentials.", nil)
	}
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	res, err := h.recon().CheckAccount(c.UserContext(), h.deps.Recon.Smile, id, h.layout(c, "", "").AdminEmail, h.now())
	if err != nil {
		return err
	}
	return redirect(c, userURL(res.UserID)+"#check")
}
