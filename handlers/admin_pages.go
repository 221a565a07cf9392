package handlers

import "github.com/gofiber/fiber/v2"

// adminPageRoutes registers the dashboard pages under /admin.
func (h *Handler) adminPageRoutes(admin fiber.Router) {}
