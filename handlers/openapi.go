package handlers

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPIDocument describes /api/v1. openapi_test.go calls every /api/v1
// route with seeded data and validates each response against it, and fails
// for a route the document does not describe.
//
//go:embed openapi/api-v1.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3 document of /api/v1.
func OpenAPIDocument() []byte { return openAPIDocument }

// serveOpenAPI is GET /api/v1/openapi.json. It sits behind the API token like
// the rest of /api/v1 (the same document is in the repository).
func (h *Handler) serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(openAPIDocument)
}
