package views

import (
	"net/url"
	"strings"
)

// Export links keep the list's current filter: the export routes take the
// same parameters as the pages (handlers/export.go).

func exportURL(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return path + "?" + q.Encode()
}

// EventsExportURL exports what the events page shows with filter f.
func EventsExportURL(f EventsFilterVM, format string) string {
	return exportURL("/admin/export/events", append([]string{"type", f.Type, "user", f.User, "account", f.Account,
		"outcome", f.Outcome, "format", format}, rangeParams(f.Time)...)...)
}

// UsersExportURL exports what the users page shows with filter f.
func UsersExportURL(f UsersFilterVM, format string) string {
	return exportURL("/admin/export/users", "q", f.Search, "status", f.Status, "provider", f.Provider, "format", format)
}

// TimelineExportURL exports a user's whole timeline with its filter; the
// timeline's BaseURL is the user page, /admin/users/{id}.
func TimelineExportURL(vm TimelineVM, format string) string {
	path := "/admin/export/users/" + strings.TrimPrefix(vm.BaseURL, "/admin/users/") + "/timeline"
	return exportURL(path, append([]string{"account", vm.Filter.Account, "kind", vm.Filter.Kind, "format", format},
		rangeParams(vm.Filter.Time)...)...)
}

// rangeParams are a filter's time range as the pages read it.
func rangeParams(r TimeRangeVM) []string {
	zone := r.Zone
	if zone == "UTC" {
		zone = ""
	}
	return []string{"range", r.Range, "from", r.From, "to", r.To, "tz", zone}
}
