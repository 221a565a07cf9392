package handlers

import (
	"github.com/gofiber/fiber/v2"

	"smiledash/views"
)

// showStart is GET /, the start page every error page links to. A signed-in
// admin goes straight to the dashboard (303); anyone else gets a short page
// saying what this is and where to sign in. It reads only the session cookie:
// a forged or expired one is treated as signed out.
func (h *Handler) showStart(c *fiber.Ctx) error {
	if in, err := h.signedIn(c); err == nil && in != nil {
		return c.Redirect("/admin", fiber.StatusSeeOther)
	}
	return render(c, fiber.StatusOK, views.StartPage(views.StartPageVM{BaseVM: h.base("Welcome"), Sandbox: h.deps.Admin.Sandbox}))
}
