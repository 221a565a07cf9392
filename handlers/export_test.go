package handlers_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
)

func csvRecords(t *testing.T, body string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v: %.300s", err, body)
	}
	return recs
}

func ndjsonLines(t *testing.T, body string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// Exports hold exactly what the list's filter selects, across many keyset
// pages (more than one page of 200), in CSV and NDJSON, for admins and tokens.
func TestExport(t *testing.T) {
	a := newTestApp(t)
	seedPages(t, a, 230)
	seedEmployers(t, a)
	indexSearch(t, a.store)
	var events int64
	if err := a.store.DB().Table("events").Count(&events).Error; err != nil {
		t.Fatal(err)
	}
	s := a.signIn(t, handlers.RoleViewer)

	got := s.get(t, "/admin/export/events?format=csv")
	recs := csvRecords(t, got.body)
	if got.status != 200 || got.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(got.header.Get("Content-Disposition"), `attachment; filename="smiledash-events-`) {
		t.Fatalf("got %d %v", got.status, got.header)
	}
	if int64(len(recs)) != events+1 || recs[0][0] != "seq" {
		t.Fatalf("got %d records, want a header and %d events", len(recs), events)
	}
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		if seen[r[0]] {
			t.Fatalf("event %s exported twice", r[0])
		}
		seen[r[0]] = true
	}

	for _, tc := range []struct {
		name, path string
		want       int
		check      func(t *testing.T, lines []map[string]any)
	}{
		{"events by type", "/admin/export/events?format=ndjson&type=EMPLOYMENTS_ADDED", 4, nil}, // 3 + the fixture
		{"events of an unknown user", "/admin/export/events?format=ndjson&user=nobody", 0, nil},
		{"users by search", "/admin/export/users?format=ndjson&q=user-01", 10, func(t *testing.T, lines []map[string]any) {
			if accts, _ := lines[0]["accounts"].([]any); len(accts) != 1 {
				t.Errorf("got accounts %v, want one", lines[0]["accounts"])
			}
		}},
		{"timeline", "/admin/export/users/user-emp/timeline?format=ndjson", 3, func(t *testing.T, lines []map[string]any) {
			if raw, _ := lines[0]["raw"].(map[string]any); raw["type"] != "EMPLOYMENTS_ADDED" {
				t.Errorf("got raw %v, want the webhook body", lines[0]["raw"])
			}
		}},
		{"search", "/admin/export/search?format=ndjson&q=siam", 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.get(t, tc.path)
			lines := ndjsonLines(t, got.body)
			if got.status != 200 || got.header.Get("Content-Type") != "application/x-ndjson" || len(lines) != tc.want {
				t.Fatalf("got %d %s with %d lines, want %d", got.status, got.header.Get("Content-Type"), len(lines), tc.want)
			}
			if tc.check != nil {
				tc.check(t, lines)
			}
		})
	}

	// The hostile login name is exported as text; a formula is defused.
	got = s.get(t, "/admin/export/users?format=csv&q=u-")
	if recs := csvRecords(t, got.body); len(recs) != 2 || !strings.Contains(recs[1][4], "<script>") {
		t.Errorf("got %v, want the hostile user's row with its login name as text", recs)
	}

	for _, path := range []string{"/admin/export/events?format=xml", "/admin/export/search?q=", "/admin/export/events?from=soon"} {
		if got := s.get(t, path); got.status != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", path, got.status)
		}
	}
	if got := s.get(t, "/admin/export/users/nobody/timeline"); got.status != http.StatusNotFound {
		t.Errorf("unknown user's timeline: got %d, want 404", got.status)
	}

	// Every export is in the audit log, its personal filters by name only.
	audit, err := a.store.AuditLog(context.Background(), models.AuditQuery{Action: models.AuditExported, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range audit.Entries {
		if strings.Contains(e.Target+e.Details, "user-") || strings.Contains(e.Details, "siam") {
			t.Errorf("audit entry %q %q holds a user id or search words", e.Target, e.Details)
		}
		found = found || (e.Target == "users as ndjson" && e.Details == "filters: q" && e.Actor == s.admin.Email)
	}
	if len(audit.Entries) != 7 || !found {
		t.Errorf("got %d export audit entries %+v, want each export with its actor and filter names", len(audit.Entries), audit.Entries)
	}

	token, _ := createTestToken(t, a, handlers.RoleViewer)
	req, _ := http.NewRequest(http.MethodGet, "/api/v1/export/events?format=csv&type=EMPLOYMENTS_ADDED", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if got := a.do(t, req); got.status != 200 || len(csvRecords(t, got.body)) != 5 {
		t.Errorf("API export: got %d %.300s, want a header and 4 events", got.status, got.body)
	}
	req, _ = http.NewRequest(http.MethodGet, "/api/v1/export/events?format=csv", nil)
	if got := a.do(t, req); got.status != http.StatusUnauthorized {
		t.Errorf("API export without a token: got %d, want 401", got.status)
	}
}

func TestExportLinksKeepTheFilter(t *testing.T) {
	a := newTestApp(t)
	seedPages(t, a, 3)
	s := a.signIn(t, handlers.RoleViewer)
	for path, want := range map[string]string{
		"/admin/events?type=ACCOUNT_CREATED&user=user-001": `href="/admin/export/events?format=csv&amp;type=ACCOUNT_CREATED&amp;user=user-001"`,
		"/admin/users?status=FAILED":                       `href="/admin/export/users?format=ndjson&amp;status=FAILED"`,
		"/admin/users/user-001?kind=event":                 `href="/admin/export/users/user-001/timeline?format=csv&amp;kind=event"`,
	} {
		if got := s.get(t, path); !strings.Contains(got.body, want) {
			t.Errorf("%s: missing %s", path, want)
		}
	}
	// A filter change through htmx replaces the users results, links included.
	if got := s.get(t, "/admin/users?provider=prov", "HX-Request", "true"); !strings.Contains(got.body, `/admin/export/users?format=csv&amp;provider=prov`) {
		t.Errorf("htmx users results lack the export link with the new filter: %.300s", got.body)
	}
}

func TestCSVSafe(t *testing.T) {
	a := newTestApp(t)
	body := pageBody("et-formula", "ACCOUNT_CREATED", time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), map[string]any{"userId": "=HYPERLINK(1)", "accountId": "-x", "loginName": "l"})
	if got := a.do(t, signed(body)); got.status != 200 {
		t.Fatal(got.body)
	}
	s := a.signIn(t, handlers.RoleViewer)
	recs := csvRecords(t, s.get(t, "/admin/export/events?format=csv").body)
	if len(recs) != 2 || recs[1][5] != "'=HYPERLINK(1)" || recs[1][6] != "'-x" {
		t.Errorf("got %v, want formula-looking cells prefixed with '", recs)
	}
}
