package handlers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// showUser is GET /admin/users/:id: the user's accounts and timeline. htmx
// "load more" gets the next timeline days only.
func (h *Handler) showUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	filter := views.TimelineFilterVM{Account: c.Query("account"), Kind: c.Query("kind"), UIEach: c.Query("ui") == "each"}
	if filter.Kind != "" && filter.Kind != views.KindEvent && filter.Kind != views.KindCallback && filter.Kind != views.KindAction {
		return badRequest("Unknown timeline kind.", nil)
	}
	var from, to time.Time
	if filter.Time, from, to, err = h.timeRange(c); err != nil {
		return err
	}
	if isHTMX(c) && c.Query("before") != "" {
		u, err := h.pages().UserByID(ctx, id)
		if err != nil {
			return err
		}
		tl, err := h.timelineVM(c, u, filter, from, to, nil)
		if err != nil {
			return err
		}
		return render(c, fiber.StatusOK, views.TimelineDays(tl))
	}
	d, err := h.pages().UserDetail(ctx, id)
	if err != nil {
		return err
	}
	vm := views.UserPageVM{
		LayoutVM: h.pageLayout(c, "User "+d.User.ID, "users"), Now: h.now(),
		ID: d.User.ID, ExternalRefs: d.ExternalRefs, Events: d.User.EventCount, Session: d.User.SessionStatus,
		CreatedAt: tv(d.User.SmileCreatedAt), FirstSeen: tv(d.User.FirstSeenAt), LastSeen: tv(d.User.LastSeenAt),
		StreamURL: withQuery("/admin/stream", "user", d.User.ID), Pending: d.User.Pending(),
	}
	for _, a := range d.Accounts {
		vm.Accounts = append(vm.Accounts, h.accountVM(a, d.Data[a.ID], d.User.ID))
	}
	for _, a := range d.Archives {
		vm.Archives = append(vm.Archives, views.ArchiveVM{ID: a.ID, Status: a.Status, ErrorCode: a.ErrorCode,
			ErrorMessage: a.ErrorMessage, FirstSeen: a.FirstSeenAt, LastSeen: a.LastSeenAt})
	}
	for _, i := range d.Invites {
		vm.Invites = append(vm.Invites, views.InviteVM{ID: i.ID, Status: i.Status, InvitedAt: tv(i.InvitedAt), LinkedAt: tv(i.LinkedAt)})
	}
	for _, t := range d.Tasks {
		vm.Tasks = append(vm.Tasks, views.TaskVM{SourceID: t.SourceID, TaskType: t.TaskType, Status: t.Status, ErrorCode: t.ErrorCode,
			Datapoints: t.Datapoints, StartedAt: tv(t.StartedAt), FinishedAt: tv(t.FinishedAt), Runs: t.Runs})
	}
	if vm.Timeline, err = h.timelineVM(c, d.User, filter, from, to, d.Accounts); err != nil {
		return err
	}
	// Reconciliation: lifecycles, gaps, Check with Smile (gaps.go).
	if vm.Recon, err = h.userReconVM(c, d.User, d.Accounts, d.Data); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.UserPage(vm))
}

func (h *Handler) accountVM(a models.Account, data []models.DataAvailability, userID string) views.AccountVM {
	now := h.now()
	vm := views.AccountVM{
		ID: a.ID, Provider: a.ProviderID, Status: a.Status, Login: a.LoginName,
		ErrorCode: a.ErrorCode, ErrorWords: views.ErrorCodeText(a.ErrorCode), ErrorMessage: a.ErrorMessage,
		Monitor: a.MonitorStatus, FirstSeen: a.FirstSeenAt, LastSeen: a.LastSeenAt, Events: a.EventCount,
		TimelineURL: withQuery(userURL(userID), "account", a.ID) + "#timeline",
	}
	for _, d := range data {
		vm.Data = append(vm.Data, views.DataVM{
			Datapoint: d.Datapoint, Added: d.ItemsAdded, Updated: d.ItemsUpdated, Events: d.Events, InTask: d.InTask,
			LastUpdated: d.LastUpdatedAt, FreshnessClass: views.Freshness(now, d.LastUpdatedAt),
		})
	}
	return vm
}

func (h *Handler) timelineVM(c *fiber.Ctx, u models.SmileUser, f views.TimelineFilterVM, from, to time.Time,
	accounts []models.Account) (views.TimelineVM, error) {
	q := models.TimelineQuery{UserKey: u.UserKey, UserID: u.ID, AccountID: f.Account, Before: c.Query("before"),
		From: from, To: to, RawPrefix: views.RawPreviewBytes + 1}
	if f.Kind != "" {
		q.Kinds = []string{f.Kind}
	}
	page, err := h.pages().Timeline(c.UserContext(), q)
	if err != nil {
		return views.TimelineVM{}, pageErr(err)
	}
	vm := views.TimelineVM{BaseURL: userURL(u.ID), Filter: f, From: from, To: to}
	for _, a := range accounts {
		vm.Accounts = append(vm.Accounts, a.ID)
	}
	items := make([]views.TimelineItemVM, 0, len(page.Items))
	for _, it := range page.Items {
		items = append(items, timelineItemVM(it))
	}
	vm.Days = views.GroupByDay(items)
	if page.Next != "" {
		ui := ""
		if f.UIEach {
			ui = "each"
		}
		vm.NextURL = withQuery(userURL(u.ID), append([]string{"account", f.Account, "kind", f.Kind, "ui", ui, "before", page.Next},
			rangeQuery(f.Time)...)...)
	}
	return vm, nil
}

func timelineItemVM(it models.TimelineItem) views.TimelineItemVM {
	vm := views.TimelineItemVM{
		Kind: it.Kind, ID: it.ID, At: it.At, Label: it.Label, AccountID: it.AccountID, SourceIP: it.SourceIP,
		Actor: it.Actor, SecretIndex: it.SecretIndex, Deliveries: it.Deliveries,
		Raw: views.RawView(it.Raw, it.RawBytes, timelineItemURL(it.Kind, it.ID)+"/raw"),
	}
	if it.Kind == models.ChangeEvent {
		vm.URL = eventURL(it.ID)
		vm.Raw.URL = eventURL(it.ID) + "/body"
	}
	return vm
}

func timelineItemURL(kind string, id int64) string {
	return "/admin/timeline/" + kind + "/" + strconv.FormatInt(id, 10)
}

// timelineItem finds the timeline item of :kind and :id, with at most
// rawPrefix bytes of its raw JSON (all with 0).
func (h *Handler) timelineItem(c *fiber.Ctx, rawPrefix int) (models.TimelineItem, error) {
	kind := c.Params("kind")
	if _, ok := map[string]bool{models.ChangeEvent: true, models.ChangeCallback: true, models.ChangeAction: true}[kind]; !ok {
		return models.TimelineItem{}, notFound("There is no such timeline item.")
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return models.TimelineItem{}, notFound("There is no such timeline item.")
	}
	it, _, err := h.pages().TimelineItem(c.UserContext(), kind, id, rawPrefix)
	return it, err
}

// downloadTimelineRaw is GET /admin/timeline/:kind/:id/raw: an item's raw
// JSON (a webhook's body, a callback's arguments, an action's detail) exactly
// as stored, as a download that is never cached.
func (h *Handler) downloadTimelineRaw(c *fiber.Ctx) error {
	it, err := h.timelineItem(c, 0)
	if err != nil {
		return err
	}
	return sendRaw(c, fmt.Sprintf("%s-%d.json", it.Kind, it.ID), it.Raw)
}

// showTimelineItem is GET /admin/timeline/:kind/:id: one item, rendered for the
// live timeline.
func (h *Handler) showTimelineItem(c *fiber.Ctx) error {
	it, err := h.timelineItem(c, views.RawPreviewBytes+1)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.TimelineEntry(timelineItemVM(it)))
}

// tv dereferences an optional time; nil is the zero time, shown as a dash.
func tv(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
