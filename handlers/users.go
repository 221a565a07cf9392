package handlers

import (
	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// accountStatuses are the statuses the users filter offers: Smile's connection statuses.
var accountStatuses = models.AccountStatuses

// listUsers is GET /admin/users: search, filters, keyset pages. htmx gets the
// results block for a filter change, or just the next rows for "load more".
func (h *Handler) listUsers(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.UsersFilterVM{Search: c.Query("q"), Status: c.Query("status"), Provider: c.Query("provider")}
	if len(f.Search) > 200 {
		return badRequest("The search is too long.", nil)
	}
	page, err := h.pages().Users(ctx, models.UsersQuery{
		Search: f.Search, Status: f.Status, Provider: f.Provider, After: c.Query("after"),
	})
	if err != nil {
		return pageErr(err)
	}
	rows := views.UserRowsVM{Now: h.now(), Rows: make([]views.UserRowVM, 0, len(page.Users))}
	for _, u := range page.Users {
		rows.Rows = append(rows.Rows, userRowVM(u))
	}
	if page.Next != "" {
		rows.NextURL = withQuery("/admin/users", "q", f.Search, "status", f.Status, "provider", f.Provider, "after", page.Next)
	}
	if isHTMX(c) && c.Query("after") != "" {
		return render(c, fiber.StatusOK, views.UserRows(rows))
	}
	results := views.UsersResultsVM{
		Total: views.CountText(page.Total.N, page.Total.AtLeast), Rows: rows,
		Filtered: f.Search != "" || f.Status != "" || f.Provider != "", Filter: f,
	}
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.UsersResults(results))
	}
	providers, err := h.pages().Providers(ctx)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.UsersPage(views.UsersPageVM{
		LayoutVM: h.pageLayout(c, "Users", "users"), Filter: f,
		Statuses: accountStatuses, Providers: providers, Results: results,
	}))
}

func userRowVM(u models.UserRow) views.UserRowVM {
	vm := views.UserRowVM{ID: u.ID, URL: userURL(u.ID), ExternalRefs: u.ExternalRefs, Events: u.EventCount}
	if u.LastSeenAt != nil {
		vm.LastSeen = *u.LastSeenAt
	}
	for _, a := range u.Accounts {
		vm.Accounts = append(vm.Accounts, views.AccountBadgeVM{Provider: a.ProviderID, Status: a.Status, Login: a.LoginName})
	}
	return vm
}
