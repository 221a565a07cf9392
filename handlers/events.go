package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
	"smiledash/views"
)

const formTime = "2006-01-02T15:04" // <input type="datetime-local">, read as UTC

// listEvents is GET /admin/events. htmx gets rows only: the next page for
// "load more", or with since=SEQ the rows newer than SEQ for the live tail.
func (h *Handler) listEvents(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.EventsFilterVM{Type: c.Query("type"), User: c.Query("user"), Account: c.Query("account"),
		Outcome: c.Query("outcome"), From: c.Query("from"), To: c.Query("to")}
	q := models.EventsQuery{Type: f.Type, AccountID: f.Account, Duplicated: f.Outcome == "duplicated", Before: c.Query("before")}
	var err error
	if q.From, err = parseFormTime(f.From); err != nil {
		return err
	}
	if q.To, err = parseFormTime(f.To); err != nil {
		return err
	}
	if f.User != "" {
		u, err := h.pages().UserByID(ctx, f.User)
		switch {
		case errors.Is(err, models.ErrNotFound):
			q.UserKey = -1 // no such user: match nothing
		case err != nil:
			return err
		default:
			q.UserKey = u.UserKey
		}
	}
	page, err := h.pages().Events(ctx, q)
	if err != nil {
		return pageErr(err)
	}
	rows := views.EventRowsVM{Now: h.now(), ScannedTo: page.ScannedTo}
	since, _ := strconv.ParseInt(c.Query("since"), 10, 64)
	for _, e := range page.Events {
		if e.Seq > since {
			rows.Rows = append(rows.Rows, eventRowVM(e))
		}
	}
	filters := []string{"type", f.Type, "user", f.User, "account", f.Account, "outcome", f.Outcome, "from", f.From, "to", f.To}
	if page.Next != "" && c.Query("since") == "" {
		rows.NextURL = withQuery("/admin/events", append(filters, "before", page.Next)...)
	}
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.EventRows(rows))
	}
	types := make([]string, 0, len(smile.EventTypes))
	for _, t := range smile.EventTypes {
		types = append(types, string(t))
	}
	return render(c, fiber.StatusOK, views.EventsPage(views.EventsPageVM{
		LayoutVM: h.pageLayout(c, "Events", "events"), Filter: f, Types: types, Results: rows,
		Live: q.Before == "", LiveURL: withQuery("/admin/events", filters...),
	}))
}

func parseFormTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(formTime, s)
	if err != nil {
		return time.Time{}, badRequest("Times must look like 2026-03-02T04:15 (UTC).", err)
	}
	return t, nil
}

func eventRowVM(e models.EventRow) views.EventRowVM {
	vm := views.EventRowVM{Seq: e.Seq, URL: eventURL(e.Seq), EventID: e.EventID, Type: e.Type, CreatedAt: e.CreatedAt,
		ReceivedAt: e.ReceivedAt, UserID: e.UserID, AccountID: e.AccountID, SourceIP: e.SourceIP,
		SecretIndex: e.SecretIndex, Deliveries: e.Deliveries}
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
	eff, err := h.pages().EventEffects(c.UserContext(), d.Event)
	if err != nil {
		return err
	}
	vm := views.EventPageVM{
		LayoutVM: h.pageLayout(c, "Event "+d.Type, "events"), Now: h.now(),
		Seq: d.Seq, EventID: d.EventID, Type: d.Type, CreatedAt: d.CreatedAt, ReceivedAt: d.ReceivedAt,
		UserID: d.UserID, AccountID: d.AccountID, SourceIP: d.SourceIP, Deliveries: d.Deliveries,
		SecretLabel: secretLabel(d.SecretIndex), Raw: views.PrettyJSON(d.Body),
		Replayed: eff.Replayed, Truncated: eff.Truncated,
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
	if !h.reprojecting.CompareAndSwap(false, true) {
		return redirect(c, eventURL(d.Seq)+"?reprojecting=already")
	}
	actor := h.layout(c, "", "").AdminEmail
	h.audit(c, models.AuditEntry{Action: models.AuditReprojected, Target: "all projections", Details: "started from event " + strconv.FormatInt(d.Seq, 10)})
	job := func() {
		defer h.reprojecting.Store(false)
		ctx := context.Background()
		n, err := h.pages().Reproject(ctx)
		if err != nil {
			h.log.Error("Re-projection failed", slog.String("event_id", d.EventID), slog.Any("error", err))
			return
		}
		detail, _ := json.Marshal(map[string]any{"event_id": d.EventID, "seq": d.Seq, "replayed": n})
		action := &models.Action{At: h.now(), UserKey: d.UserKey, AccountID: d.AccountID, Kind: models.ActionReprojected,
			Actor: actor, Detail: detail}
		if err := h.pages().CreateAction(ctx, action); err != nil {
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
	return redirect(c, eventURL(d.Seq)+"?reprojecting=started")
}
