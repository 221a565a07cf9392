package handlers

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/views"
)

// listTokens is GET /admin/tokens.
func (h *Handler) listTokens(c *fiber.Ctx) error {
	vm, err := h.tokensVM(c, views.TokenFormVM{Role: RoleViewer})
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.TokensPage(vm))
}

// createToken is POST /admin/tokens (name, role). An empty or overlong name
// or an unknown role re-renders the form with 422 and stores nothing. The new
// token is in this response only (not cached); the store keeps its hash. A
// repeated submission creates another token.
func (h *Handler) createToken(c *fiber.Ctx) error {
	form := views.TokenFormVM{Name: strings.TrimSpace(c.FormValue("name")), Role: c.FormValue("role")}
	me, _ := currentAdmin(c)
	var by *int64
	if me.ID != 0 {
		by = &me.ID
	}
	plain, tok, err := h.access().CreateAPIToken(c.UserContext(), auth.NewAPIToken{Name: form.Name, Role: form.Role, CreatedBy: by}, h.now())
	switch {
	case errors.Is(err, auth.ErrInvalidTokenName):
		form.Errors = map[string]string{"name": "Give it a name of 1 to 100 characters."}
	case errors.Is(err, auth.ErrInvalidRole):
		form.Errors = map[string]string{"role": "Choose viewer or admin."}
	case err != nil:
		return err
	}
	if form.Errors != nil {
		vm, err := h.tokensVM(c, form)
		if err != nil {
			return err
		}
		return render(c, fiber.StatusUnprocessableEntity, views.TokensPage(vm))
	}
	h.audit(c, models.AuditEntry{Action: models.AuditTokenCreated, Target: tokenTarget(tok), Details: "role " + tok.Role})
	vm, err := h.tokensVM(c, views.TokenFormVM{Role: RoleViewer})
	if err != nil {
		return err
	}
	vm.Created = &views.CreatedTokenVM{Name: tok.Name, Role: tok.Role, Token: plain}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.TokensPage(vm))
}

// revokeToken is POST /admin/tokens/:id/revoke: the token stops working at
// once, 303 back to the list. A bad id is 400, an unknown one 404; revoking a
// revoked token keeps its first revocation time.
func (h *Handler) revokeToken(c *fiber.Ctx) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.access().RevokeAPIToken(c.UserContext(), id, h.now()); err != nil {
		return err
	}
	h.audit(c, models.AuditEntry{Action: models.AuditTokenRevoked, Target: "API token " + strconv.FormatInt(id, 10)})
	return c.Redirect("/admin/tokens", fiber.StatusSeeOther)
}

func (h *Handler) tokensVM(c *fiber.Ctx, form views.TokenFormVM) (views.TokensPageVM, error) {
	ctx := c.UserContext()
	tokens, err := h.access().APITokens(ctx)
	if err != nil {
		return views.TokensPageVM{}, err
	}
	admins, err := h.access().Admins(ctx)
	if err != nil {
		return views.TokensPageVM{}, err
	}
	emailOf := map[int64]string{}
	for _, a := range admins {
		emailOf[a.ID] = a.Email
	}
	vm := views.TokensPageVM{LayoutVM: h.accessLayout(c, "API tokens"), Form: form}
	for _, t := range tokens {
		row := views.TokenRowVM{ID: t.ID, Name: t.Name, Role: t.Role, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
			CreatedBy: "command line", RevokeURL: "/admin/tokens/" + strconv.FormatInt(t.ID, 10) + "/revoke"}
		if t.CreatedBy != nil {
			row.CreatedBy = emailOf[*t.CreatedBy] // "" once that admin is removed
		}
		if t.LastUsedAt != nil {
			row.LastUsedAt = *t.LastUsedAt
		}
		if t.RevokedAt != nil {
			row.RevokedAt = *t.RevokedAt
		}
		vm.Tokens = append(vm.Tokens, row)
	}
	return vm, nil
}

func tokenTarget(t auth.APIToken) string {
	return "API token " + strconv.FormatInt(t.ID, 10) + " " + t.Name
}
