package handlers

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
)

// requireAPIToken admits /api requests carrying `Authorization: Bearer <token>`
// of an unrevoked API token and puts the token and its role in Locals. Viewer
// tokens may only read (GET, HEAD); admin tokens may also change things.
// Failures answer JSON: 401 without a valid token, 403 for a read-only one.
func (h *Handler) requireAPIToken(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	plain, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="smiledash"`)
		return unauthorized("Send an API token: Authorization: Bearer <token>.", nil)
	}
	tok, err := h.authStore().APITokenByToken(c.UserContext(), plain, h.now())
	if errors.Is(err, models.ErrNotFound) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="smiledash", error="invalid_token"`)
		return unauthorized("This API token is not valid or has been revoked.", nil)
	}
	if err != nil {
		return unavailable("The API token cannot be checked right now. Try again in a moment.", err)
	}
	if changesState(c.Method()) && tok.Role != RoleAdmin {
		return forbidden("This API token is read-only.", errors.New("viewer token attempted "+c.Method()))
	}
	c.Locals(localAPIToken, tok)
	c.Locals(localRole, tok.Role)
	return c.Next()
}

// bearerToken extracts the token of an Authorization header ("Bearer" in any case).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
