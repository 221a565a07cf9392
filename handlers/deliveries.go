package handlers

import (
	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// reasonWords explains a delivery reason to the admin debugging it.
var reasonWords = map[string]string{
	models.ReasonDuplicate:        "Smile sent an event already stored (a retry); it was answered 200 and stored once.",
	models.ReasonSignatureMissing: "The request had no Smile-Signature header. Smile always signs, so a proxy or load balancer in front of smiledash is probably dropping the header: let it pass Smile-Signature through.",
	models.ReasonSignatureMismatch: "The signature did not match any configured secret: compare the secret registered with Smile with Settings " +
		"(SMILEDASH_WEBHOOK_SECRETS), or check that nothing between Smile and smiledash changes the body.",
	models.ReasonBadSignature:     "The signature was missing or did not match (recorded by an earlier version, which did not tell the two apart).",
	models.ReasonEncodingRefused:  "The body came compressed (Content-Encoding). Smile sends plain JSON, so something in between compressed it, or this was not Smile; compressed bodies are refused unread.",
	models.ReasonIPRefused:        "The sender's address is not on the allowlist (SMILEDASH_WEBHOOK_ALLOWED_IPS), or a proxy hides it.",
	models.ReasonTooLarge:         "The body was larger than SMILEDASH_WEBHOOK_MAX_BYTES.",
	models.ReasonBadEnvelope:      "Signed correctly, but not a Smile webhook: id, type or createdAt is missing or malformed.",
	models.ReasonStoreUnavailable: "The database was unavailable; Smile was told to retry.",
}

var deliveryReasons = []string{models.ReasonSignatureMissing, models.ReasonSignatureMismatch, models.ReasonIPRefused,
	models.ReasonTooLarge, models.ReasonEncodingRefused, models.ReasonBadEnvelope, models.ReasonStoreUnavailable,
	models.ReasonDuplicate, models.ReasonBadSignature}

// listDeliveries is GET /admin/deliveries: refused attempts by default.
func (h *Handler) listDeliveries(c *fiber.Ctx) error {
	f := views.DeliveriesFilterVM{Outcome: c.Query("outcome", models.OutcomeRejected), Reason: c.Query("reason")}
	q := models.DeliveriesQuery{Outcome: f.Outcome, Reason: f.Reason, Before: c.Query("before")}
	switch f.Outcome {
	case models.OutcomeRejected, models.OutcomeDuplicate:
	case "all":
		q.Outcome = ""
	default:
		return badRequest("Outcome must be rejected, duplicate or all.", nil)
	}
	page, err := h.pages().Deliveries(c.UserContext(), q)
	if err != nil {
		return pageErr(err)
	}
	rows := views.DeliveryRowsVM{}
	for _, d := range page.Deliveries {
		rows.Rows = append(rows.Rows, deliveryVM(d))
	}
	if page.Next != "" {
		rows.NextURL = withQuery("/admin/deliveries", "outcome", f.Outcome, "reason", f.Reason, "before", page.Next)
	}
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.DeliveryRows(rows))
	}
	return render(c, fiber.StatusOK, views.DeliveriesPage(views.DeliveriesPageVM{
		LayoutVM: h.pageLayout(c, "Deliveries", "deliveries"), Filter: f, Reasons: deliveryReasons, Results: rows,
	}))
}

func deliveryVM(d models.Delivery) views.DeliveryVM {
	return views.DeliveryVM{ID: d.ID, ReceivedAt: d.ReceivedAt, SourceIP: d.SourceIP, Outcome: d.Outcome, Reason: d.Reason,
		ReasonWords: reasonWords[d.Reason], Status: d.Status, EventID: d.EventID, EventType: d.EventType,
		BodyBytes: d.BodyBytes, Excerpt: d.Excerpt}
}
