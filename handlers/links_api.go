package handlers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
)

// maxLinkRequestBytes bounds POST /api/v1/links.
const maxLinkRequestBytes = 4 << 10

// linkJSON is a connect link in the API.
type linkJSON struct {
	ID           int64      `json:"id"`
	URL          string     `json:"url"`
	ExternalRef  string     `json:"external_ref"`
	Label        string     `json:"label"`
	State        string     `json:"state"`
	SmileUserID  string     `json:"smile_user_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	CreatedBy    string     `json:"created_by"`
	ExpiresAt    *time.Time `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	OpenCount    int64      `json:"open_count"`
	LastOpenedAt *time.Time `json:"last_opened_at"`
}

// newLinkRequest is the body of POST /api/v1/links.
type newLinkRequest struct {
	ExternalRef string `json:"external_ref"`
	Label       string `json:"label"`
	// ExpiresIn is a Go duration such as "72h"; empty never expires.
	ExpiresIn string `json:"expires_in"`
}

// apiListLinks is GET /api/v1/links[?before=ID]: up to 50 links, newest first,
// and next_before to page on (absent on the last page). A malformed before is 400.
func (h *Handler) apiListLinks(c *fiber.Ctx) error {
	before, err := queryInt64(c, "before")
	if err != nil {
		return err
	}
	links, err := h.linkStore().Links(c.UserContext(), before, linksPageSize+1)
	if err != nil {
		return err
	}
	out := struct {
		Items      []linkJSON `json:"items"`
		NextBefore *int64     `json:"next_before,omitempty"`
	}{Items: []linkJSON{}}
	if len(links) > linksPageSize {
		links = links[:linksPageSize]
		next := links[len(links)-1].ID
		out.NextBefore = &next
	}
	for _, l := range links {
		out.Items = append(out.Items, h.linkJSON(l))
	}
	return c.JSON(out)
}

// apiCreateLink is POST /api/v1/links with {"external_ref", "label",
// "expires_in"}. Over 4 KiB: 413; not JSON or unknown fields: 400; invalid
// fields: 422 with {"error", "fields": {name: message}}, nothing stored;
// otherwise 201 with the link and its url. Without a valid bearer token the
// request is 401, with a read-only one 403 (requireAPIToken). A repeated
// request creates another link (there is no idempotency key).
func (h *Handler) apiCreateLink(c *fiber.Ctx) error {
	if len(c.Body()) > maxLinkRequestBytes {
		return tooLarge("The request is too large.")
	}
	var req newLinkRequest
	if err := decodeStrict(c.Body(), &req); err != nil {
		return badRequest(`Send {"external_ref": "...", "label": "...", "expires_in": "72h"}.`, err)
	}
	in, errs := h.newLinkFrom(strings.TrimSpace(req.ExternalRef), strings.TrimSpace(req.Label), req.ExpiresIn, "api")
	if len(errs) > 0 {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": "Some fields are not valid.", "fields": errs})
	}
	l, err := h.linkStore().CreateLink(c.UserContext(), in)
	if err != nil {
		return err
	}
	h.audit(c, models.AuditEntry{Action: models.AuditLinkCreated, Target: linkTarget(l.ID)})
	return c.Status(fiber.StatusCreated).JSON(h.linkJSON(l))
}

// apiRevokeLink is POST /api/v1/links/:id/revoke: 200 with the link. A bad id
// is 400, an unknown one 404, a missing or read-only token 401/403; revoking
// again returns the link unchanged. Any body is ignored.
func (h *Handler) apiRevokeLink(c *fiber.Ctx) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	l, err := h.linkStore().RevokeLink(c.UserContext(), id, "api", h.now())
	if errors.Is(err, models.ErrNotFound) {
		return notFound(fmt.Sprintf("There is no link %s.", strconv.FormatInt(id, 10)))
	}
	if err != nil {
		return err
	}
	h.audit(c, models.AuditEntry{Action: models.AuditLinkRevoked, Target: linkTarget(id)})
	return c.JSON(h.linkJSON(l))
}

func (h *Handler) linkJSON(l models.Link) linkJSON {
	return linkJSON{
		ID: l.ID, URL: h.linkURL(l), ExternalRef: l.ExternalRef, Label: l.Label, State: l.State(h.now()),
		SmileUserID: l.SmileUserID, CreatedAt: l.CreatedAt, CreatedBy: l.CreatedBy, ExpiresAt: l.ExpiresAt,
		RevokedAt: l.RevokedAt, OpenCount: l.OpenCount, LastOpenedAt: l.LastOpenedAt,
	}
}
