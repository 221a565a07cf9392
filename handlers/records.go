package handlers

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
	"smiledash/views"
)

// RecordStore is what the records page and the events type filter read.
type RecordStore interface {
	Records(ctx context.Context, q models.RecordsQuery) (models.RecordsPage, error)
	UnknownEventTypes(ctx context.Context) ([]string, error)
}

var _ RecordStore = (*models.Store)(nil)

func (h *Handler) records() RecordStore { return h.deps.Stores.Pages }

// listRecords is GET /admin/records: social-security records or, with
// kind=verifications, identity verifications, newest first, keyset-paged;
// id=… shows one. An unknown kind is a 400, a cursor this code did not make a
// 400 in plain words; htmx "load more" gets rows only.
func (h *Handler) listRecords(c *fiber.Ctx) error {
	kind := c.Query("kind", models.KindRecords)
	if kind != models.KindRecords && kind != models.KindVerifications {
		return badRequest("Choose records or verifications.", nil)
	}
	id := c.Query("id")
	if len(id) > smile.MaxEventIDLength {
		return badRequest("The id is too long.", nil)
	}
	page, err := h.records().Records(c.UserContext(), models.RecordsQuery{Kind: kind, ID: id, Before: c.Query("before")})
	if err != nil {
		return pageErr(err)
	}
	rows := views.RecordRowsVM{Now: h.now()}
	eventsURL := withQuery("/admin/events", "type", string(smile.RecordCompleted))
	if kind == models.KindVerifications {
		eventsURL = withQuery("/admin/events", "type", string(smile.VerificationCompleted))
	}
	for _, r := range page.Rows {
		vm := views.RecordRowVM{ID: r.ID, RecordType: r.RecordType, Status: r.Status, ResultCode: r.ResultCode,
			ResultMessage: r.ResultMessage, FirstSeen: r.FirstSeenAt, EventsURL: eventsURL}
		if r.StatusAt != nil {
			vm.StatusAt = *r.StatusAt
		}
		rows.Rows = append(rows.Rows, vm)
	}
	if page.Next != "" {
		rows.NextURL = withQuery("/admin/records", "kind", kind, "id", id, "before", page.Next)
	}
	if isHTMX(c) && c.Query("before") != "" {
		return render(c, fiber.StatusOK, views.RecordRows(rows))
	}
	return render(c, fiber.StatusOK, views.RecordsPage(views.RecordsPageVM{
		LayoutVM: h.pageLayout(c, "Records", "records"), Kind: kind, ID: id, Results: rows,
		Tabs: []views.RecordsTabVM{
			{Label: "Records", URL: "/admin/records", Active: kind == models.KindRecords},
			{Label: "Verifications", URL: "/admin/records?kind=verifications", Active: kind == models.KindVerifications},
		},
	}))
}

// recordsURLOf is the records page entry of a RECORD_* or VERIFICATION_*
// event, read from its body; "" for other events.
func recordsURLOf(eventType string, body []byte) string {
	kind := ""
	switch {
	case strings.HasPrefix(eventType, "RECORD_"):
		kind = models.KindRecords
	case strings.HasPrefix(eventType, "VERIFICATION_"):
		kind = models.KindVerifications
	default:
		return ""
	}
	id := ""
	if env, err := smile.ParseEnvelope(body); err == nil {
		id = env.Data.RecordID
		if kind == models.KindVerifications {
			id = env.Data.VerificationID
		}
	}
	return withQuery("/admin/records", "kind", kind, "id", id)
}
