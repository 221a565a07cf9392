package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/smile/smiletest"
)

// seedFidelity stores the fixtures plus an unknown type, a zoneless createdAt
// and a future-dated event, through POST /webhooks/smile.
func seedFidelity(t *testing.T, a *testApp) {
	t.Helper()
	post := func(body []byte) {
		t.Helper()
		if got := a.do(t, signed(body)); got.status != http.StatusOK {
			t.Fatalf("webhook: got %d %s", got.status, got.body)
		}
	}
	for _, typ := range smiletest.EventTypes() {
		post(smiletest.Event(typ))
	}
	post([]byte(`{"id":"et-unknown","version":2,"type":"PAYSLIP_GENERATED","createdAt":"2026-05-01T00:00:00Z","data":{"userId":"u-new"}}`))
	post([]byte(`{"id":"et-zoneless","version":1,"type":"INCOMES_ADDED","createdAt":"2026-05-01T00:00:00","data":{"userId":"u-new","accountId":"a-new","count":"4"}}`))
	post(pageBody("et-future", "ACCOUNT_DISCONNECTED", time.Now().Add(72*time.Hour), map[string]any{"userId": "u-new", "accountId": "a-new"}))
	for i := range 3 {
		post(pageBody(fmt.Sprintf("et-rec-%d", i), "RECORD_CREATED", time.Date(2026, 5, 2, 0, i, 0, 0, time.UTC),
			map[string]any{"recordId": fmt.Sprintf("ss-page-%d", i), "recordType": "SOCIAL_SECURITY"}))
	}
}

func TestRecordsAndFlags_Pages(t *testing.T) {
	a := newTestApp(t)
	seedFidelity(t, a)
	s := a.signIn(t, handlers.RoleViewer)
	ctx := context.Background()
	seqOf := func(id string) string {
		d, err := a.store.EventByEventID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/admin/events/%d", d.Seq)
	}
	hx := []string{"HX-Request", "true"}
	for _, tc := range []struct {
		name            string
		path            string
		headers         []string
		wantStatus      int
		wantContains    []string
		wantNotContains []string
	}{
		{"records", "/admin/records", nil, 200, []string{`data-testid="record-row"`, "ss-5c7e9a1b3d2f4c6e8a0b1d3f5a7c9e24", "COMPLETED", "SUCCESS",
			"SOCIAL_SECURITY", "ss-page-2", `data-testid="nav-records"`, `aria-current="page"`}, []string{"ver-2e4a6c8f"}},
		{"verifications", "/admin/records?kind=verifications", nil, 200, []string{"ver-2e4a6c8f0b1d4e3a5c7f9b0d2e4a6c71", "COMPLETED"}, []string{"ss-page"}},
		{"one record", "/admin/records?id=ss-page-1", nil, 200, []string{"ss-page-1", `data-testid="records-one"`}, []string{"ss-page-2"}},
		{"no such record", "/admin/records?id=ss-none", nil, 200, []string{`data-testid="records-empty"`}, nil},
		{"bad kind", "/admin/records?kind=users", nil, 400, nil, nil},
		{"bad cursor", "/admin/records?before=zz", nil, 400, []string{"not valid"}, nil},
		{"record event links to its record", seqOf("et-rec-1"), nil, 200, []string{`data-testid="event-records-link"`, `href="/admin/records?id=ss-page-1&amp;kind=records"`}, nil},
		{"verification event links", "/admin/events/" + mustEventID(t, "VERIFICATION_COMPLETED"), nil, 200,
			[]string{`href="/admin/records?id=ver-2e4a6c8f0b1d4e3a5c7f9b0d2e4a6c71&amp;kind=verifications"`}, nil},
		{"user event has no records link", "/admin/events/" + mustEventID(t, "ACCOUNT_CREATED"), nil, 200, nil, []string{`data-testid="event-records-link"`, `data-testid="event-flag"`}},
		{"zoneless event flagged", seqOf("et-zoneless"), nil, 200, []string{`data-testid="event-flag"`, "created_at_no_zone", "read as UTC"}, nil},
		{"future event flagged", seqOf("et-future"), nil, 200, []string{"created_at_future", "changes no status"}, nil},
		{"unknown type marked", "/admin/events", nil, 200, []string{`data-testid="unknown-type"`, `data-testid="unknown-types"`, `<option value="PAYSLIP_GENERATED">PAYSLIP_GENERATED (unknown)</option>`}, nil},
		{"unknown type filter", "/admin/events?type=PAYSLIP_GENERATED", nil, 200, []string{`data-testid="unknown-type"`, `selected>PAYSLIP_GENERATED (unknown)`}, []string{"INCOMES_ADDED</a>"}},
		{"known type not marked", "/admin/events?type=ACCOUNT_CREATED", hx, 200, []string{`data-testid="event-row"`}, []string{`data-testid="unknown-type"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.get(t, tc.path, tc.headers...)
			if got.status != tc.wantStatus {
				t.Fatalf("got status %d, want %d; body: %.400s", got.status, tc.wantStatus, got.body)
			}
			for _, w := range tc.wantContains {
				if !strings.Contains(got.body, w) {
					t.Errorf("got a body without %q", w)
				}
			}
			for _, w := range tc.wantNotContains {
				if strings.Contains(got.body, w) {
					t.Errorf("got a body with %q", w)
				}
			}
		})
	}
}

// mustEventID is the envelope id of a fixture.
func mustEventID(t *testing.T, typ string) string {
	t.Helper()
	var env struct{ ID string }
	if err := json.Unmarshal(smiletest.Event(typ), &env); err != nil {
		t.Fatal(err)
	}
	return env.ID
}

func TestRecords_KeysetPages(t *testing.T) {
	a := newTestApp(t)
	seedFidelity(t, a)
	page, err := a.store.Records(context.Background(), models.RecordsQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for {
		for _, r := range page.Rows {
			ids = append(ids, r.ID)
		}
		if page.Next == "" {
			break
		}
		if page, err = a.store.Records(context.Background(), models.RecordsQuery{Limit: 2, Before: page.Next}); err != nil {
			t.Fatal(err)
		}
	}
	want := "ss-page-2 ss-page-1 ss-page-0 ss-5c7e9a1b3d2f4c6e8a0b1d3f5a7c9e24"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	s := a.signIn(t, handlers.RoleViewer)
	got := s.get(t, "/admin/records", "HX-Request", "true")
	if !strings.Contains(got.body, "<html") {
		t.Errorf("the first page without a cursor must be the full page")
	}
}

// TestAPI_SmileShapes checks the JSON API speaks Smile's words: connection
// statuses and the monitor status on accounts, and event flags.
func TestAPI_SmileShapes(t *testing.T) {
	a := newTestApp(t)
	seedFidelity(t, a)
	plain, _, err := a.auth.CreateAPIToken(context.Background(), auth.NewAPIToken{Name: "shape", Role: handlers.RoleViewer}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, into any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		got := a.do(t, req)
		if got.status != 200 {
			t.Fatalf("%s: got %d %.300s", path, got.status, got.body)
		}
		if err := json.Unmarshal([]byte(got.body), into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var user struct {
		Accounts []struct {
			ID            string  `json:"id"`
			Status        string  `json:"status"`
			MonitorStatus *string `json:"monitorStatus"`
		} `json:"accounts"`
		Tasks []struct {
			TaskType string `json:"taskType"`
		} `json:"tasks"`
	}
	get("/api/v1/users/"+smiletest.FixtureUserID, &user)
	statuses, monitors, types := map[string]string{}, map[string]string{}, map[string]bool{}
	for _, acc := range user.Accounts {
		statuses[acc.ID] = acc.Status
		if acc.MonitorStatus != nil {
			monitors[acc.ID] = *acc.MonitorStatus
		}
	}
	for _, tk := range user.Tasks {
		types[tk.TaskType] = true
	}
	if statuses[smiletest.FixtureAccountID] != models.AccountDisconnected || monitors[smiletest.FixtureAccountID] != "ACTIVE" {
		t.Errorf("got accounts %v monitors %v, want the fixture account DISCONNECTED and ACTIVE", statuses, monitors)
	}
	if !types[models.TaskTypeUpdateAccount] || types["ACCOUNT_SYNC"] {
		t.Errorf("got task types %v, want UPDATE_ACCOUNT for the sync and no ACCOUNT_SYNC", types)
	}
	for id, status := range statuses {
		if status == "CREATED" || status == "FAILED" {
			t.Errorf("account %s: got status %s, want Smile's connection status", id, status)
		}
	}
	var newUser struct {
		Accounts []struct {
			Status        string  `json:"status"`
			MonitorStatus *string `json:"monitorStatus"`
		} `json:"accounts"`
	}
	get("/api/v1/users/u-new", &newUser)
	if len(newUser.Accounts) != 1 || newUser.Accounts[0].MonitorStatus != nil {
		t.Errorf("got %+v, want one account with a null monitor status", newUser.Accounts)
	}
	var events struct {
		Items []struct {
			EventID string   `json:"eventId"`
			Flags   []string `json:"flags"`
		} `json:"items"`
	}
	get("/api/v1/events?user=u-new", &events)
	flags := map[string]string{}
	for _, e := range events.Items {
		if e.Flags == nil {
			t.Errorf("%s: got flags null, want a list", e.EventID)
		}
		flags[e.EventID] = strings.Join(e.Flags, ",")
	}
	if flags["et-zoneless"] != "created_at_no_zone" || flags["et-future"] != "created_at_future" || flags["et-unknown"] != "" {
		t.Errorf("got flags %v", flags)
	}
	var one struct {
		Flags []string `json:"flags"`
	}
	get("/api/v1/events/et-future", &one)
	if len(one.Flags) != 1 || one.Flags[0] != "created_at_future" {
		t.Errorf("got flags %v on the event, want [created_at_future]", one.Flags)
	}
}
