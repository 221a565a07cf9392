package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"smiledash/models"
)

// Export formats, chosen with ?format=.
const (
	formatCSV    = "csv"
	formatNDJSON = "ndjson"
)

// A streamed export must keep moving: every exportDeadlineRows rows the
// connection gets exportWriteTimeout more to take them, so a client that stops
// reading is dropped while a long export to a live one runs to the end.
const (
	exportWriteTimeout = 30 * time.Second
	exportDeadlineRows = 500
)

// exportTable says how rows of one list become CSV records and NDJSON lines.
type exportTable[T any] struct {
	name    string // users, events, …: the file name and the audit record
	columns []string
	record  func(T) []string
	line    func(T) any
}

// streamExport answers with every row each yields, streamed: rows are written
// to the connection as the keyset walk reads them, so memory stays that of one
// page however large the export. each runs after this handler has returned, so
// it must not hold anything of c: the queries callers build from exportParams
// are copies. A failure after the first byte cannot change the status; the
// export then ends with a line saying it is incomplete, and the log says why.
func streamExport[T any](h *Handler, c *fiber.Ctx, t exportTable[T], each func(ctx context.Context, fn func(T) error) error) error {
	format := c.Query("format", formatCSV)
	if format != formatCSV && format != formatNDJSON {
		return badRequest("The format must be csv or ndjson.", nil)
	}
	h.recordExport(c, t.name, format)
	file := "smiledash-" + t.name + "-" + h.now().UTC().Format("20060102T150405Z") + "." + format
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+file+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	if format == formatCSV {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		c.Set(fiber.HeaderContentType, "application/x-ndjson")
	}
	log := h.log
	// fasthttp sets one write deadline (the app's WriteTimeout) for a whole
	// response; an export may take longer, so each stretch of rows gets its own.
	conn := c.Context().Conn()
	rows := 0
	progress := func() {
		if rows++; conn != nil && rows%exportDeadlineRows == 1 {
			_ = conn.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
		}
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx := context.Background()
		var err error
		if format == formatCSV {
			cw := csv.NewWriter(w)
			if err = cw.Write(t.columns); err == nil {
				err = each(ctx, func(row T) error { progress(); return cw.Write(csvSafe(t.record(row))) })
			}
			cw.Flush()
			if err == nil {
				err = cw.Error()
			}
		} else {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			err = each(ctx, func(row T) error { progress(); return enc.Encode(t.line(row)) })
		}
		if err != nil {
			log.Warn("Export stopped early", slog.String("export", t.name), slog.Any("error", err))
			if format == formatCSV {
				_, _ = w.WriteString("\n# export incomplete: it stopped early, see the server log\n")
			} else {
				_, _ = w.WriteString(`{"error":"export incomplete: it stopped early, see the server log"}` + "\n")
			}
		}
		_ = w.Flush()
	})
	return nil
}

// recordExport puts the export in the audit log: who (the admin or the API
// token), what, in which format, with which filters. The audit log holds no
// personal data, so filters that can name a person (user, account, the search
// words) are recorded by name only.
func (h *Handler) recordExport(c *fiber.Ctx, name, format string) {
	what, _, _ := strings.Cut(name, "-") // "timeline-<user id>" names the file only
	params := exportParams(c)
	keys := slices.Sorted(maps.Keys(params))
	filters := make([]string, 0, len(keys))
	for _, k := range keys {
		switch v := params.Get(k); {
		case k == "format" || v == "":
		case auditableFilters[k]:
			filters = append(filters, k+"="+v)
		default:
			filters = append(filters, k)
		}
	}
	details := "no filter"
	if len(filters) > 0 {
		details = "filters: " + strings.Join(filters, ", ")
	}
	h.audit(c, models.AuditEntry{Action: models.AuditExported, Target: what + " as " + format, Details: details})
}

// auditableFilters are export filters whose values say nothing about a person.
var auditableFilters = map[string]bool{"type": true, "kind": true, "outcome": true, "status": true, "provider": true,
	"range": true, "from": true, "to": true, "tz": true}

// exportParams copies the query string, so filters outlive the handler.
func exportParams(c *fiber.Ctx) url.Values {
	v, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	return v
}

// csvSafe keeps spreadsheets from running payload text as a formula: a cell
// starting with = + @ or a tab, or - not followed by a digit, gets a leading '.
func csvSafe(rec []string) []string {
	for i, s := range rec {
		if s == "" {
			continue
		}
		switch s[0] {
		case '=', '+', '@', '\t', '\r':
			rec[i] = "'" + s
		case '-':
			if len(s) == 1 || s[1] < '0' || s[1] > '9' {
				rec[i] = "'" + s
			}
		}
	}
	return rec
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func rfc3339p(t *time.Time) string {
	if t == nil {
		return ""
	}
	return rfc3339(*t)
}

var eventsExport = exportTable[models.EventRow]{
	name:    "events",
	columns: []string{"seq", "eventId", "type", "createdAt", "receivedAt", "userId", "accountId", "sourceIp", "secretIndex", "deliveries"},
	record: func(e models.EventRow) []string {
		return []string{strconv.FormatInt(e.Seq, 10), e.EventID, e.Type, rfc3339(e.CreatedAt), rfc3339(e.ReceivedAt), e.UserID,
			e.AccountID, e.SourceIP, strconv.Itoa(e.SecretIndex), strconv.FormatInt(e.Deliveries, 10)}
	},
	line: func(e models.EventRow) any { return apiEventRowOf(e) },
}

func apiEventRowOf(e models.EventRow) apiEventRow {
	return apiEventRow{Seq: e.Seq, EventID: e.EventID, Type: e.Type, CreatedAt: e.CreatedAt, ReceivedAt: e.ReceivedAt,
		UserID: e.UserID, AccountID: e.AccountID, SourceIP: e.SourceIP, SecretIndex: e.SecretIndex, Deliveries: e.Deliveries}
}

// exportEvents is GET /admin/export/events and /api/v1/export/events: every
// event the events list's filter (type, user, account, outcome, and range,
// from, to, tz or RFC 3339 from and to) selects. An unknown user exports nothing (a header only in CSV); malformed times answer 400.
func (h *Handler) exportEvents(c *fiber.Ctx) error {
	p := exportParams(c)
	q := models.EventsQuery{Type: p.Get("type"), AccountID: p.Get("account"), Duplicated: p.Get("outcome") == "duplicated"}
	var err error
	if q.From, q.To, err = h.exportTimes(c); err != nil {
		return err
	}
	if q.UserKey, err = h.userKeyOf(c.UserContext(), p.Get("user")); err != nil {
		return err
	}
	q.UserID = p.Get("user") // their events the projector has not resolved yet count too
	store := h.searchStore()
	return streamExport(h, c, eventsExport, func(ctx context.Context, fn func(models.EventRow) error) error {
		return store.EachEvent(ctx, q, fn)
	})
}

var usersExport = exportTable[models.UserRow]{
	name:    "users",
	columns: []string{"id", "externalRefs", "lastSeenAt", "eventCount", "accounts"},
	record: func(u models.UserRow) []string {
		accounts := make([]string, 0, len(u.Accounts))
		for _, a := range u.Accounts {
			accounts = append(accounts, strings.Join([]string{a.ID, a.ProviderID, a.Status, a.LoginName}, " "))
		}
		return []string{u.ID, strings.Join(u.ExternalRefs, "; "), rfc3339p(u.LastSeenAt), strconv.FormatInt(u.EventCount, 10),
			strings.Join(accounts, "; ")}
	},
	line: func(u models.UserRow) any {
		return apiUser{ID: u.ID, ExternalRefs: u.ExternalRefs, LastSeenAt: u.LastSeenAt, EventCount: u.EventCount, Accounts: apiAccounts(u.Accounts)}
	},
}

// exportUsers is GET /admin/export/users and /api/v1/export/users: every user
// the users list's filter (q, status, provider) selects. In CSV each account
// is "id provider status login", accounts separated by "; ".
func (h *Handler) exportUsers(c *fiber.Ctx) error {
	p := exportParams(c)
	if len(p.Get("q")) > maxSearchChars {
		return badRequest("The search is too long.", nil)
	}
	q := models.UsersQuery{Search: p.Get("q"), Status: p.Get("status"), Provider: p.Get("provider")}
	store := h.searchStore()
	return streamExport(h, c, usersExport, func(ctx context.Context, fn func(models.UserRow) error) error {
		return store.EachUser(ctx, q, fn)
	})
}

var timelineExport = exportTable[models.TimelineItem]{
	name:    "timeline",
	columns: []string{"kind", "id", "at", "label", "accountId", "browserClaim", "raw"},
	record: func(it models.TimelineItem) []string {
		return []string{it.Kind, strconv.FormatInt(it.ID, 10), rfc3339(it.At), it.Label, it.AccountID,
			strconv.FormatBool(it.Kind == models.ChangeCallback), string(it.Raw)}
	},
	line: func(it models.TimelineItem) any { return apiItemOf(it) },
}

func apiItemOf(it models.TimelineItem) apiItem {
	raw := json.RawMessage(it.Raw)
	if !json.Valid(raw) {
		raw, _ = json.Marshal(string(it.Raw))
	}
	return apiItem{Kind: it.Kind, ID: it.ID, At: it.At, Label: it.Label, AccountID: it.AccountID,
		Claim: it.Kind == models.ChangeCallback, Raw: raw}
}

// exportTimeline is GET /admin/export/users/:id/timeline and its API twin:
// the user's whole merged timeline, with the timeline's filter (account,
// kind, time range as for events) and each item's raw payload. An unknown user is a 404.
func (h *Handler) exportTimeline(c *fiber.Ctx) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	u, err := h.searchStore().UserByID(c.UserContext(), utils.CopyString(id))
	if err != nil {
		return err
	}
	p := exportParams(c)
	q := models.TimelineQuery{UserKey: u.UserKey, UserID: u.ID, AccountID: p.Get("account")}
	if q.From, q.To, err = h.exportTimes(c); err != nil {
		return err
	}
	if k := p.Get("kind"); k != "" {
		q.Kinds = []string{k}
	}
	t := timelineExport
	t.name = "timeline-" + safeFileWord(u.ID)
	store := h.searchStore()
	return streamExport(h, c, t, func(ctx context.Context, fn func(models.TimelineItem) error) error {
		return store.EachTimelineItem(ctx, q, fn)
	})
}

// safeFileWord keeps letters, digits, - and _ of s, for a file name.
func safeFileWord(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, s)
}

var searchExport = exportTable[models.SearchHit]{
	name:    "search",
	columns: []string{"kind", "id", "type", "at", "userId", "accountId", "snippet"},
	record: func(hit models.SearchHit) []string {
		return []string{hit.Kind, strconv.FormatInt(hit.SourceID, 10), hit.Type, rfc3339(hit.At), hit.UserID, hit.AccountID, hit.Snippet}
	},
	line: func(hit models.SearchHit) any { return apiSearchHitOf(hit) },
}

// exportSearch is GET /admin/export/search and /api/v1/export/search: every
// hit of a search, with the search's filters. No words: 400.
func (h *Handler) exportSearch(c *fiber.Ctx) error {
	p := exportParams(c)
	_, q, err := h.searchFilter(c, p.Get)
	if err != nil {
		return err
	}
	if !models.HasSearchWords(q.Text) {
		return searchErr(models.ErrEmptySearch)
	}
	q.Before, q.Limit = "", 0
	store := h.searchStore()
	return streamExport(h, c, searchExport, func(ctx context.Context, fn func(models.SearchHit) error) error {
		return store.EachSearchHit(ctx, q, fn)
	})
}
