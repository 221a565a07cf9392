package handlers

import "github.com/gofiber/fiber/v2"

// PagesDeps is what the dashboard pages need beyond the shared Deps.
type PagesDeps struct{}

// adminPageRoutes registers the dashboard pages under /admin.
func (h *Handler) adminPageRoutes(admin fiber.Router) {}
