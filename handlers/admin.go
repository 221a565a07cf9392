package handlers

import "github.com/gofiber/fiber/v2"

// AdminDeps is what the signed-in dashboard needs.
type AdminDeps struct{}

// adminRoutes registers sign-in, /admin pages and the /api.
func (h *Handler) adminRoutes(app *fiber.App) {}
