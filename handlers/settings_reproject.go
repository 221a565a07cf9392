package handlers

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// reprojectAll is POST /admin/settings/reproject (admin role): rebuild every
// projection from the stored events in the background, as the event page's
// action does, but without picking an event. Without confirm=yes it only
// shows the confirmation page; with it, a rebuild starts unless one is
// running, and the page says which.
func (h *Handler) reprojectAll(c *fiber.Ctx) error {
	if c.FormValue("confirm") != "yes" {
		return render(c, fiber.StatusOK, views.ConfirmPage(views.ConfirmPageVM{
			LayoutVM: h.pageLayout(c, "Re-project all", "settings"),
			Question: "Rebuild every projection from the stored events?",
			Facts: []string{
				"Users, accounts, archives, invites, tasks and data counts are recomputed from the events, which are not changed.",
				"It runs in the background, about half a minute per million events; pages show the old values until it is done.",
			},
			ActionURL: "/admin/settings/reproject", Button: "Re-project all", CancelURL: "/admin/settings",
		}))
	}
	actor := h.layout(c, "", "").AdminEmail
	started := h.startReprojection(actor, func(n int) *models.Action {
		detail, _ := json.Marshal(map[string]any{"from": "settings", "replayed": n})
		return &models.Action{At: h.now(), Kind: models.ActionReprojected, Actor: actor, Detail: detail}
	})
	if !started {
		return redirect(c, "/admin/settings?reprojecting=already")
	}
	h.audit(c, models.AuditEntry{Action: models.AuditReprojected, Target: "all projections", Details: "started from settings"})
	return redirect(c, "/admin/settings?reprojecting=started")
}

// startReprojection runs one rebuild in the background (Pages.Background, or
// a goroutine) and records record(n) when it is done; it reports false, and
// does nothing, when a rebuild started from this process is still running.
// Replicas serialise theirs on the database lock.
func (h *Handler) startReprojection(actor string, record func(replayed int) *models.Action) bool {
	if !h.reprojecting.CompareAndSwap(false, true) {
		return false
	}
	job := func() {
		defer h.reprojecting.Store(false)
		ctx := context.Background()
		n, err := h.eventLog().Reproject(ctx)
		if err != nil {
			h.log.Error("Re-projection failed", slog.String("actor", actor), slog.Any("error", err))
			return
		}
		if err := h.pages().CreateAction(ctx, record(n)); err != nil {
			h.log.Error("Recording the re-projection failed", slog.Any("error", err))
			return
		}
		h.log.Info("Projections rebuilt", slog.Int("events", n), slog.String("actor", actor))
	}
	if run := h.deps.Pages.Background; run != nil {
		run(job)
	} else {
		go job()
	}
	return true
}
