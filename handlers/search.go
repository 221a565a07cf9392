package handlers

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// SearchStore is what search and exports read.
type SearchStore interface {
	Search(ctx context.Context, q models.SearchQuery) (models.SearchPage, error)
	SearchLag(ctx context.Context) (models.Count, error)
	UserByID(ctx context.Context, id string) (models.SmileUser, error)
	EachEvent(ctx context.Context, q models.EventsQuery, fn func(models.EventRow) error) error
	EachUser(ctx context.Context, q models.UsersQuery, fn func(models.UserRow) error) error
	EachTimelineItem(ctx context.Context, q models.TimelineQuery, fn func(models.TimelineItem) error) error
	EachSearchHit(ctx context.Context, q models.SearchQuery, fn func(models.SearchHit) error) error
}

var _ SearchStore = (*models.Store)(nil)

func (h *Handler) searchStore() SearchStore { return h.deps.Stores.Pages }

// maxSearchChars bounds what a search may ask for.
const maxSearchChars = 200

// searchFilter reads the search parameters shared by the page, the API and
// exports: q, kind, type, user, account, provider, from, to, before (or
// cursor) and limit, read with get (c.Query, or a copy for exports). An unknown
// user matches nothing rather than failing, like the events filter.
func (h *Handler) searchFilter(c *fiber.Ctx, get func(string) string) (views.SearchFilterVM, models.SearchQuery, error) {
	f := views.SearchFilterVM{Text: get("q"), Kind: get("kind"), Type: get("type"), User: get("user"),
		Account: get("account"), Provider: get("provider"), From: get("from"), To: get("to")}
	q := models.SearchQuery{Text: f.Text, Kind: f.Kind, Type: f.Type, AccountID: f.Account, Provider: f.Provider, Before: get("before")}
	if q.Before == "" {
		q.Before = get("cursor")
	}
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return f, q, badRequest("The limit must be a number.", err)
		}
		q.Limit = n
	}
	if len(f.Text) > maxSearchChars {
		return f, q, badRequest("The search is too long: at most 200 characters.", nil)
	}
	if f.Kind != "" && !slices.Contains(models.SearchKinds, f.Kind) {
		return f, q, badRequest("The source must be event or callback.", nil)
	}
	var err error
	if q.From, err = parseTimeParam(f.From); err != nil {
		return f, q, err
	}
	if q.To, err = parseTimeParam(f.To); err != nil {
		return f, q, err
	}
	if q.UserKey, err = h.userKeyOf(c.UserContext(), f.User); err != nil {
		return f, q, err
	}
	return f, q, nil
}

// userKeyOf resolves a Smile user id for a filter: 0 for none, -1 for an
// unknown user or one the projector has not created yet (so the filter
// matches no key; the search index holds no unresolved event).
func (h *Handler) userKeyOf(ctx context.Context, id string) (int64, error) {
	if id == "" {
		return 0, nil
	}
	u, err := h.searchStore().UserByID(ctx, id)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return -1, nil
	case err != nil:
		return 0, err
	case u.Pending():
		return -1, nil
	}
	return u.UserKey, nil
}

// parseTimeParam reads a filter time: RFC 3339, or the form's
// 2026-03-02T04:15 read as UTC.
func parseTimeParam(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return parseFormTime(s, time.UTC)
}

// exportTimes reads an export's time range: the list page's own (range, from,
// to and tz, see timeRange) or, as the API sends it, from and to in RFC 3339.
func (h *Handler) exportTimes(c *fiber.Ctx) (from, to time.Time, err error) {
	rfc := func(s string) (time.Time, bool) {
		if s == "" {
			return time.Time{}, true
		}
		t, err := time.Parse(time.RFC3339, s)
		return t, err == nil
	}
	f, okF := rfc(c.Query("from"))
	t, okT := rfc(c.Query("to"))
	if c.Query("range") == "" && c.Query("tz") == "" && okF && okT {
		return f, t, nil
	}
	_, from, to, err = h.timeRange(c)
	return from, to, err
}

func searchErr(err error) error {
	if errors.Is(err, models.ErrEmptySearch) {
		return badRequest("Type at least one word or number to search for.", err)
	}
	return pageErr(err)
}

// showSearch is GET /admin/search: the form, and with q the first page of
// hits (htmx "load more" gets the next rows only). A search without words
// shows the form with a hint; malformed filters and cursors answer 400.
func (h *Handler) showSearch(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f, q, err := h.searchFilter(c, queryOf(c))
	if err != nil {
		return err
	}
	vm := views.SearchPageVM{LayoutVM: h.pageLayout(c, "Search", "search"), Filter: f, Kinds: models.SearchKinds}
	filters := []string{"q", f.Text, "kind", f.Kind, "type", f.Type, "user", f.User, "account", f.Account,
		"provider", f.Provider, "from", f.From, "to", f.To}
	if models.HasSearchWords(f.Text) {
		page, err := h.searchStore().Search(ctx, q)
		if err != nil {
			return searchErr(err)
		}
		vm.Searched = true
		for _, hit := range page.Hits {
			vm.Results.Rows = append(vm.Results.Rows, searchRowVM(hit))
		}
		if page.Next != "" {
			vm.Results.NextURL = withQuery("/admin/search", append(filters, "before", page.Next)...)
		}
		if isHTMX(c) && q.Before != "" {
			return render(c, fiber.StatusOK, views.SearchRows(vm.Results))
		}
		vm.ExportCSV = withQuery("/admin/export/search", append(filters, "format", "csv")...)
		vm.ExportNDJSON = withQuery("/admin/export/search", append(filters, "format", "ndjson")...)
	}
	lag, err := h.searchStore().SearchLag(ctx)
	if err != nil {
		return err
	}
	if lag.N > 0 {
		vm.Behind = views.CountText(lag.N, lag.AtLeast) + " " + plural(lag.N, "item", "items")
	}
	return render(c, fiber.StatusOK, views.SearchPage(vm))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func searchRowVM(hit models.SearchHit) views.SearchRowVM {
	vm := views.SearchRowVM{Kind: hit.Kind, Type: hit.Type, At: hit.At, UserID: hit.UserID, AccountID: hit.AccountID,
		Snippet: hit.Snippet, IsBrowserCallback: hit.Kind == models.SearchKindCallback}
	if hit.UserID != "" {
		vm.UserURL = userURL(hit.UserID)
	}
	switch {
	case hit.Kind == models.SearchKindEvent:
		vm.URL = eventURL(hit.SourceID)
	case hit.UserID != "":
		vm.URL = vm.UserURL // a callback is shown in its user's timeline
	default:
		vm.URL = "/admin/timeline/" + hit.Kind + "/" + strconv.FormatInt(hit.SourceID, 10)
	}
	return vm
}

// apiSearchHit is one hit in GET /api/v1/search.
type apiSearchHit struct {
	Kind      string    `json:"kind"`
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	At        time.Time `json:"at"`
	UserID    string    `json:"userId,omitempty"`
	AccountID string    `json:"accountId,omitempty"`
	Snippet   string    `json:"snippet"`
}

func apiSearchHitOf(hit models.SearchHit) apiSearchHit {
	return apiSearchHit{Kind: hit.Kind, ID: hit.SourceID, Type: hit.Type, At: hit.At, UserID: hit.UserID,
		AccountID: hit.AccountID, Snippet: hit.Snippet}
}

// apiSearch is GET /api/v1/search: the same search and filters as the page,
// keyset-paged with cursor, and how many stored items the index has not
// reached yet. No words, a malformed filter or cursor: 400.
func (h *Handler) apiSearch(c *fiber.Ctx) error {
	_, q, err := h.searchFilter(c, queryOf(c))
	if err != nil {
		return err
	}
	page, err := h.searchStore().Search(c.UserContext(), q)
	if err != nil {
		return searchErr(err)
	}
	lag, err := h.searchStore().SearchLag(c.UserContext())
	if err != nil {
		return err
	}
	out := struct {
		apiPage[apiSearchHit]
		IndexBehind int64 `json:"indexBehind"`
	}{apiPage: apiPage[apiSearchHit]{Items: make([]apiSearchHit, 0, len(page.Hits)), Next: page.Next}, IndexBehind: lag.N}
	for _, hit := range page.Hits {
		out.Items = append(out.Items, apiSearchHitOf(hit))
	}
	return c.JSON(out)
}

// queryOf reads c's query parameters (valid only inside the handler).
func queryOf(c *fiber.Ctx) func(string) string {
	return func(k string) string { return c.Query(k) }
}
