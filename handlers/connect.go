package handlers

import (
	"github.com/gofiber/fiber/v2"

	"smiledash/smile"
)

// ConnectDeps is what the connect flow needs (links, the Smile client, widget sessions).
type ConnectDeps struct {
	// Smile is the REST client: real, or backed by the built-in sandbox.
	Smile *smile.Client
}

// connectRoutes registers the end user's connect pages and their callbacks.
func (h *Handler) connectRoutes(app *fiber.App) {}
