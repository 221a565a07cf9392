package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
	"smiledash/views"
)

// listEvents is GET /admin/events. htmx gets rows only: the next page for
// "load more", or with since=SEQ the rows stored after SEQ for the live tail.
// A tail never drops rows silently: when more arrived than a page holds, the
// newest page comes with a gap row saying how many were not shown and a link
// (since=SEQ&before=SEQ) that fills the gap, page by page.
func (h *Handler) listEvents(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.EventsFilterVM{Type: c.Query("type"), Family: c.Query("family"), User: c.Query("user"), Account: c.Query("account"), Outcome: c.Query("outcome")}
	if f.Family != "" && !slices.Contains(models.EventFamilies, f.Family) {
		return badRequest("Unknown event family: use one of "+strings.Join(models.EventFamilies, ", ")+".", nil)
	}
	q := models.EventsQuery{Type: f.Type, Family: f.Family, AccountID: f.Account, Duplicated: f.Outcome == "duplicated", Before: c.Query("before")}
	var err error
	if f.Time, q.From, q.To, err = h.timeRange(c); err != nil {
		return err
	}
	tail := c.Query("since") != ""
	if tail {
		if q.After, err = strconv.ParseInt(c.Query("since"), 10, 64); err != nil || q.After < 0 {
			return badRequest("since must be an event number.", err)
		}
	}
	if f.User != "" {
		u, err := h.pages().UserByID(ctx, f.User)
		switch {
		case errors.Is(err, models.ErrNotFound):
			q.UserKey = -1 // no such user: match nothing
		case err != nil:
			return err
		default:
			q.UserKey, q.UserID = u.UserKey, u.ID
		}
	}
	page, err := h.pages().Events(ctx, q)
	if err != nil {
		return pageErr(err)
	}
	rows := views.EventRowsVM{Now: h.now(), ScannedTo: page.ScannedTo}
	for _, e := range page.Events {
		rows.Rows = append(rows.Rows, eventRowVM(e))
	}
	filters := append([]string{"type", f.Type, "family", f.Family, "user", f.User, "account", f.Account, "outcome", f.Outcome}, rangeQuery(f.Time)...)
	switch {
	case tail && page.Next != "":
		rows.ScannedTo = 0
		if rows.Gap, err = h.eventsGap(ctx, q, page.Next, filters); err != nil {
			return err
		}
	case page.Next != "":
		rows.NextURL = withQuery("/admin/events", append(filters, "before", page.Next)...)
	}
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.EventRows(rows))
	}
	types := make([]string, 0, len(smile.EventTypes))
	for _, t := range smile.EventTypes {
		types = append(types, string(t))
	}
	unknown, err := h.records().UnknownEventTypes(ctx)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.EventsPage(views.EventsPageVM{
		LayoutVM: h.pageLayout(c, "Events", "events"), Filter: f, Types: types, Families: models.EventFamilies, Results: rows,
		Live: q.Before == "" && !tail, LiveURL: withQuery("/admin/events", filters...), UnknownTypes: unknown,
	}))
}

// eventsGap describes the events a tail page left out: those after q.After
// and before the page's last row (next, its cursor), with the link that
// fetches them.
func (h *Handler) eventsGap(ctx context.Context, q models.EventsQuery, next string, filters []string) (*views.EventGapVM, error) {
	before, err := strconv.ParseInt(next, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("handlers: events gap cursor %q: %w", next, err)
	}
	n, err := h.pages().EventsBetween(ctx, q, q.After, before)
	if err != nil || n.N == 0 {
		return nil, err
	}
	return &views.EventGapVM{After: q.After, Before: before, Count: views.CountText(n.N, n.AtLeast),
		URL: withQuery("/admin/events", append(filters, "since", strconv.FormatInt(q.After, 10), "before", next)...)}, nil
}

func eventRowVM(e models.EventRow) views.EventRowVM {
	vm := views.EventRowVM{Seq: e.Seq, URL: eventURL(e.Seq), EventID: e.EventID, Type: e.Type, CreatedAt: e.CreatedAt,
		ReceivedAt: e.ReceivedAt, UserID: e.UserID, AccountID: e.AccountID, SourceIP: e.SourceIP,
		SecretIndex: e.SecretIndex, Deliveries: e.Deliveries, Unknown: !smile.EventType(e.Type).Known()}
	if e.UserID != "" {
		vm.UserURL = userURL(e.UserID)
	}
	return vm
}

// event finds the event of :id, a stored seq or Smile's event id.
func (h *Handler) event(c *fiber.Ctx) (models.EventDetail, error) {
	id, err := pathParam(c, "id")
	if err != nil {
		return models.EventDetail{}, err
	}
	if seq, err := strconv.ParseInt(id, 10, 64); err == nil {
		return h.pages().EventBySeq(c.UserContext(), seq)
	}
	return h.pages().EventByEventID(c.UserContext(), id)
}

// showEvent is GET /admin/events/:id.
func (h *Handler) showEvent(c *fiber.Ctx) error {
	d, err := h.event(c)
	if err != nil {
		return err
	}
	eff, err := h.eventLog().EventEffects(c.UserContext(), d.Event)
	if err != nil {
		return err
	}
	vm := views.EventPageVM{
		LayoutVM: h.pageLayout(c, "Event "+d.Type, "events"), Now: h.now(),
		Seq: d.Seq, EventID: d.EventID, Type: d.Type, CreatedAt: d.CreatedAt, ReceivedAt: d.ReceivedAt,
		UserID: d.UserID, AccountID: d.AccountID, SourceIP: d.SourceIP, Deliveries: d.Deliveries,
		SecretLabel: secretLabel(d.SecretIndex), Body: views.RawView(d.Body, int64(len(d.Body)), eventURL(d.Seq)+"/body"),
		Replayed: eff.Replayed, Truncated: eff.Truncated, Unresolved: eff.Unresolved, RecordsURL: recordsURLOf(d.Type, d.Body),
		Unprojected: d.Unprojected,
	}
	if d.Parked != nil {
		vm.ParkedError = d.Parked.Error
	}
	if r, ok := models.RetainedOf(d.Body); ok {
		vm.Retained = &views.RetainedVM{At: r.At, OriginalBytes: r.OriginalBytes}
	}
	for _, f := range models.SplitFlags(d.Flags) {
		vm.Flags = append(vm.Flags, views.FlagVM{Name: f, Words: views.FlagText(f)})
	}
	if d.UserID != "" {
		vm.UserURL = userURL(d.UserID)
	}
	for _, a := range d.Attempts {
		vm.Attempts = append(vm.Attempts, deliveryVM(a))
	}
	for _, ch := range eff.Changes {
		vm.Changes = append(vm.Changes, views.FieldChangeVM{Table: ch.Table, Key: ch.Key, Field: ch.Field, Before: ch.Before, After: ch.After, NewRow: ch.NewRow})
	}
	if currentRole(c) == RoleAdmin {
		vm.ReprojectURL = eventURL(d.Seq) + "/reproject"
	}
	switch c.Query("reprojecting") {
	case "started":
		vm.Notice = "Rebuilding every projection from the stored events. It takes about half a minute per " +
			"million events; a \"reprojected\" action appears in this user's timeline when it is done."
	case "already":
		vm.Notice = "A rebuild is already running; a \"reprojected\" action appears in the timeline when it is done."
	}
	return render(c, fiber.StatusOK, views.EventPage(vm))
}

// downloadEventBody is GET /admin/events/:id/body: the stored body, byte for
// byte, as a JSON download. It is never cached (an admin's browser is not a
// place to leave Smile data) and is only for signed-in admins, like the page.
func (h *Handler) downloadEventBody(c *fiber.Ctx) error {
	d, err := h.event(c)
	if err != nil {
		return err
	}
	return sendRaw(c, fmt.Sprintf("event-%d.json", d.Seq), d.Body)
}

// sendRaw answers with stored JSON as an attachment, exactly as stored.
func sendRaw(c *fiber.Ctx, filename string, raw []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(raw)
}

func secretLabel(i int) string {
	if i == 0 {
		return "secret 1 (the current one)"
	}
	return fmt.Sprintf("secret %d (an older one: is Smile still signing with it?)", i+1)
}

// reproject is POST /admin/events/:id/reproject (admin role): rebuild every
// projection from the stored events in the background (about half a minute per
// million events, longer than a request may take), and record who did it once
// it is done. One rebuild runs at a time per process; replicas serialise theirs
// on the database lock.
func (h *Handler) reproject(c *fiber.Ctx) error {
	d, err := h.event(c)
	if err != nil {
		return err
	}
	actor := h.layout(c, "", "").AdminEmail
	started := h.startReprojection(actor, func(n int) *models.Action {
		detail, _ := json.Marshal(map[string]any{"event_id": d.EventID, "seq": d.Seq, "replayed": n})
		return &models.Action{At: h.now(), UserKey: d.UserKey, AccountID: d.AccountID, Kind: models.ActionReprojected,
			Actor: actor, Detail: detail}
	})
	if !started {
		return redirect(c, eventURL(d.Seq)+"?reprojecting=already")
	}
	h.audit(c, models.AuditEntry{Action: models.AuditReprojected, Target: "all projections", Details: "started from event " + strconv.FormatInt(d.Seq, 10)})
	return redirect(c, eventURL(d.Seq)+"?reprojecting=started")
}
