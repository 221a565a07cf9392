package handlers

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
)

type apiPage[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// apiAccount is an account in Smile's words: status is Smile's connection
// status (PENDING, AWAITING_MFA, CONNECTED, ERROR, DISCONNECTED), monitorStatus
// its data-sync status (ACTIVE, USER_ACTION_REQUIRED, …; null until Smile
// reports one).
type apiAccount struct {
	ID            string    `json:"id"`
	Provider      string    `json:"provider"`
	Status        string    `json:"status"`
	MonitorStatus *string   `json:"monitorStatus"`
	LoginName     string    `json:"loginName,omitempty"`
	ErrorCode     string    `json:"errorCode,omitempty"`
	ErrorMessage  string    `json:"errorMessage,omitempty"`
	LastSeenAt    time.Time `json:"lastSeenAt"`
}

type apiUser struct {
	ID           string       `json:"id"`
	ExternalRefs []string     `json:"externalRefs,omitempty"`
	LastSeenAt   *time.Time   `json:"lastSeenAt"`
	EventCount   int64        `json:"eventCount"`
	Accounts     []apiAccount `json:"accounts"`
}

func apiAccounts(accounts []models.Account) []apiAccount {
	out := make([]apiAccount, 0, len(accounts))
	for _, a := range accounts {
		acc := apiAccount{ID: a.ID, Provider: a.ProviderID, Status: a.Status, LoginName: a.LoginName,
			ErrorCode: a.ErrorCode, ErrorMessage: a.ErrorMessage, LastSeenAt: a.LastSeenAt}
		if a.MonitorStatus != "" {
			acc.MonitorStatus = &a.MonitorStatus
		}
		out = append(out, acc)
	}
	return out
}

func (h *Handler) apiUsers(c *fiber.Ctx) error {
	page, err := h.pages().Users(c.UserContext(), models.UsersQuery{
		Search: c.Query("q"), Status: c.Query("status"), Provider: c.Query("provider"), After: c.Query("cursor"), Limit: c.QueryInt("limit"),
	})
	if err != nil {
		return pageErr(err)
	}
	out := apiPage[apiUser]{Items: []apiUser{}, Next: page.Next}
	for _, u := range page.Users {
		out.Items = append(out.Items, apiUser{ID: u.ID, ExternalRefs: u.ExternalRefs, LastSeenAt: u.LastSeenAt,
			EventCount: u.EventCount, Accounts: apiAccounts(u.Accounts)})
	}
	return c.JSON(out)
}

func (h *Handler) apiUser(c *fiber.Ctx) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	d, err := h.pages().UserDetail(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"id": d.User.ID, "externalRefs": d.ExternalRefs, "lastSeenAt": d.User.LastSeenAt, "eventCount": d.User.EventCount,
		"accounts": apiAccounts(d.Accounts), "data": apiDataOf(d.Data), "archives": apiArchives(d.Archives),
		"invites": apiInvites(d.Invites), "tasks": apiTasks(d.Tasks),
	})
}

// The API's own shapes of the projections, in the camelCase the rest of the
// API uses, so the models can change without changing the contract.
type (
	apiData struct {
		Datapoint     string    `json:"datapoint"`
		ItemsAdded    int64     `json:"itemsAdded"`
		ItemsUpdated  int64     `json:"itemsUpdated"`
		Events        int64     `json:"events"`
		InTask        bool      `json:"deliveredByTask"`
		LastUpdatedAt time.Time `json:"lastUpdatedAt"`
	}
	apiArchive struct {
		ID           string     `json:"id"`
		Status       string     `json:"status"`
		ErrorCode    string     `json:"errorCode,omitempty"`
		ErrorMessage string     `json:"errorMessage,omitempty"`
		StatusAt     *time.Time `json:"statusAt"`
	}
	apiInvite struct {
		ID        string     `json:"id"`
		Status    string     `json:"status"`
		InvitedAt *time.Time `json:"invitedAt"`
		LinkedAt  *time.Time `json:"linkedAt"`
	}
	apiTask struct {
		SourceID   string     `json:"sourceId"`
		SourceType string     `json:"sourceType"`
		TaskType   string     `json:"taskType"`
		Status     string     `json:"status"`
		ErrorCode  string     `json:"errorCode,omitempty"`
		Datapoints []string   `json:"datapoints"`
		StartedAt  *time.Time `json:"startedAt"`
		FinishedAt *time.Time `json:"finishedAt"`
		Runs       int64      `json:"runs"`
	}
)

func apiDataOf(byAccount map[string][]models.DataAvailability) map[string][]apiData {
	out := make(map[string][]apiData, len(byAccount))
	for account, rows := range byAccount {
		list := make([]apiData, 0, len(rows))
		for _, r := range rows {
			list = append(list, apiData{Datapoint: r.Datapoint, ItemsAdded: r.ItemsAdded, ItemsUpdated: r.ItemsUpdated,
				Events: r.Events, InTask: r.InTask, LastUpdatedAt: r.LastUpdatedAt})
		}
		out[account] = list
	}
	return out
}

func apiArchives(rows []models.Archive) []apiArchive {
	out := make([]apiArchive, 0, len(rows))
	for _, r := range rows {
		out = append(out, apiArchive{ID: r.ID, Status: r.Status, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, StatusAt: r.StatusAt})
	}
	return out
}

func apiInvites(rows []models.Invite) []apiInvite {
	out := make([]apiInvite, 0, len(rows))
	for _, r := range rows {
		out = append(out, apiInvite{ID: r.ID, Status: r.Status, InvitedAt: r.InvitedAt, LinkedAt: r.LinkedAt})
	}
	return out
}

func apiTasks(rows []models.Task) []apiTask {
	out := make([]apiTask, 0, len(rows))
	for _, r := range rows {
		points := []string{}
		if r.Datapoints != "" {
			points = strings.Split(r.Datapoints, ",")
		}
		out = append(out, apiTask{SourceID: r.SourceID, SourceType: r.SourceType, TaskType: r.TaskType, Status: r.Status,
			ErrorCode: r.ErrorCode, Datapoints: points, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Runs: r.Runs})
	}
	return out
}

type apiItem struct {
	Kind      string          `json:"kind"`
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Label     string          `json:"label"`
	AccountID string          `json:"accountId,omitempty"`
	Claim     bool            `json:"browserClaim,omitempty"`
	Raw       json.RawMessage `json:"raw"`
}

func (h *Handler) apiTimeline(c *fiber.Ctx) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	u, err := h.pages().UserByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	q := models.TimelineQuery{UserKey: u.UserKey, UserID: u.ID, AccountID: c.Query("account"), Before: c.Query("cursor"), Limit: c.QueryInt("limit")}
	if k := c.Query("kind"); k != "" {
		q.Kinds = []string{k}
	}
	page, err := h.pages().Timeline(c.UserContext(), q)
	if err != nil {
		return pageErr(err)
	}
	out := apiPage[apiItem]{Items: []apiItem{}, Next: page.Next}
	for _, it := range page.Items {
		raw := json.RawMessage(it.Raw)
		if !json.Valid(raw) {
			raw, _ = json.Marshal(string(it.Raw))
		}
		out.Items = append(out.Items, apiItem{Kind: it.Kind, ID: it.ID, At: it.At, Label: it.Label, AccountID: it.AccountID,
			Claim: it.Kind == models.ChangeCallback, Raw: raw})
	}
	return c.JSON(out)
}

func (h *Handler) apiEvents(c *fiber.Ctx) error {
	q := models.EventsQuery{Type: c.Query("type"), AccountID: c.Query("account"), Duplicated: c.Query("outcome") == "duplicated",
		Before: c.Query("cursor"), Limit: c.QueryInt("limit")}
	if id := c.Query("user"); id != "" {
		u, err := h.pages().UserByID(c.UserContext(), id)
		if err != nil {
			return err
		}
		q.UserKey, q.UserID = u.UserKey, u.ID
	}
	page, err := h.pages().Events(c.UserContext(), q)
	if err != nil {
		return pageErr(err)
	}
	out := apiPage[apiEventRow]{Items: []apiEventRow{}, Next: page.Next}
	for _, e := range page.Events {
		out.Items = append(out.Items, apiEventRow{Seq: e.Seq, EventID: e.EventID, Type: e.Type, CreatedAt: e.CreatedAt,
			ReceivedAt: e.ReceivedAt, UserID: e.UserID, AccountID: e.AccountID, SourceIP: e.SourceIP,
			SecretIndex: e.SecretIndex, Deliveries: e.Deliveries, Flags: models.SplitFlags(e.Flags)})
	}
	return c.JSON(out)
}

func (h *Handler) apiEvent(c *fiber.Ctx) error {
	d, err := h.event(c)
	if err != nil {
		return err
	}
	body := json.RawMessage(d.Body)
	if !json.Valid(body) {
		body, _ = json.Marshal(string(d.Body))
	}
	return c.JSON(fiber.Map{
		"seq": d.Seq, "eventId": d.EventID, "type": d.Type, "createdAt": d.CreatedAt, "receivedAt": d.ReceivedAt,
		"userId": d.UserID, "accountId": d.AccountID, "sourceIp": d.SourceIP, "secretIndex": d.SecretIndex,
		"deliveries": d.Deliveries, "attempts": apiDeliveries(d.Attempts), "body": body, "flags": models.SplitFlags(d.Flags),
	})
}

func (h *Handler) apiDeliveries(c *fiber.Ctx) error {
	page, err := h.pages().Deliveries(c.UserContext(), models.DeliveriesQuery{
		Outcome: c.Query("outcome"), Reason: c.Query("reason"), Before: c.Query("cursor"), Limit: c.QueryInt("limit"),
	})
	if err != nil {
		return pageErr(err)
	}
	return c.JSON(apiPage[apiDelivery]{Items: apiDeliveries(page.Deliveries), Next: page.Next})
}

type apiEventRow struct {
	Seq         int64     `json:"seq"`
	EventID     string    `json:"eventId"`
	Type        string    `json:"type"`
	CreatedAt   time.Time `json:"createdAt"`
	ReceivedAt  time.Time `json:"receivedAt"`
	UserID      string    `json:"userId,omitempty"`
	AccountID   string    `json:"accountId,omitempty"`
	SourceIP    string    `json:"sourceIp"`
	SecretIndex int       `json:"secretIndex"`
	Deliveries  int64     `json:"deliveries"`
	Flags       []string  `json:"flags"`
}

type apiDelivery struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"receivedAt"`
	SourceIP   string    `json:"sourceIp"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason"`
	Status     int       `json:"status"`
	EventID    string    `json:"eventId,omitempty"`
	EventType  string    `json:"eventType,omitempty"`
	BodyBytes  int       `json:"bodyBytes"`
	Excerpt    string    `json:"excerpt,omitempty"`
}

func apiDeliveries(ds []models.Delivery) []apiDelivery {
	out := make([]apiDelivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, apiDelivery{ID: d.ID, ReceivedAt: d.ReceivedAt, SourceIP: d.SourceIP, Outcome: d.Outcome, Reason: d.Reason,
			Status: d.Status, EventID: d.EventID, EventType: d.EventType, BodyBytes: d.BodyBytes, Excerpt: d.Excerpt})
	}
	return out
}
