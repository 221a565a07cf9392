package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"smiledash/migrations"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile"
)

// erasureWorld is a store with several users' events, duplicates, rejected
// deliveries, connect links, widget sessions, callbacks and actions.
type erasureWorld struct {
	in            *ingest.Writer
	victim, other string
	victimKey     int64
	otherKey      int64
}

func seedErasureWorld(t *testing.T, s *models.Store) erasureWorld {
	t.Helper()
	ctx := context.Background()
	in := storetest.Writer(t, s)
	w := erasureWorld{in: in, victim: fmt.Sprintf("synth-%032d", 2), other: fmt.Sprintf("synth-%032d", 1)}
	bodies := append(storetest.FixtureBodies(), storetest.SyntheticHistory(5)...)
	for _, body := range bodies {
		storetest.Submit(t, in, body)
		if strings.Contains(string(body), w.victim) || strings.Contains(string(body), w.other) {
			storetest.Submit(t, in, body) // a retry: a duplicate delivery record
		}
	}
	for _, excerpt := range []string{`{"data":{"userId":"` + w.victim + `"}}`, `{"data":{"userId":"` + w.other + `"}}`} {
		d := models.Delivery{ReceivedAt: t0, SourceIP: "192.0.2.9", Outcome: models.OutcomeRejected,
			Reason: models.ReasonSignatureMismatch, Status: 401, Excerpt: excerpt}
		if err := s.DB().Create(&d).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, who := range []string{w.victim, w.other} {
		l := openedLink(t, s, "crm-"+who[len(who)-1:], who)
		if _, _, err := s.CreateWidgetSession(ctx, l, t0, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateCallback(ctx, &models.Callback{ReceivedAt: t0, UserKey: l.UserKey, LinkID: &l.ID, Name: "onAccountConnected",
			Args: json.RawMessage(`{"userId":"` + who + `"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAction(ctx, &models.Action{At: t0, UserKey: l.UserKey, Kind: models.ActionTokenRefreshed,
			Detail: json.RawMessage(`{"userId":"` + who + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// A link opened for the victim that no event has reached: only its smile_user_id names them.
	if err := s.DB().Exec("UPDATE connect_links SET user_key = NULL WHERE external_ref = ?", "crm-2").Error; err != nil {
		t.Fatal(err)
	}
	// The search index of everyone's events and callbacks (search_docs, and
	// on SQLite search_text).
	for {
		n, err := s.IndexSearch(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	for _, u := range []struct {
		id  string
		key *int64
	}{{w.victim, &w.victimKey}, {w.other, &w.otherKey}} {
		su, err := s.UserByID(ctx, u.id)
		if err != nil {
			t.Fatal(err)
		}
		*u.key = su.UserKey
	}
	return w
}

// userView is what the dashboard shows of a user: detail and whole timeline.
func userView(t *testing.T, s *models.Store, id string, key int64) string {
	t.Helper()
	ctx := context.Background()
	d, err := s.UserDetail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := s.Timeline(ctx, models.TimelineQuery{UserKey: key, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v\n%+v", d, tl)
}

// tablesHolding lists every table and column whose text holds needle.
func tablesHolding(t *testing.T, s *models.Store, needle string) []string {
	t.Helper()
	type column struct{ table, name, kind string }
	var cols []column
	if s.Dialect() == migrations.Postgres {
		rows, err := s.DB().Raw(`SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'bytea', 'json', 'jsonb')`).Rows()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.table, &c.name, &c.kind); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		rows.Close()
	} else {
		var tables []string
		if err := s.DB().Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").Scan(&tables).Error; err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			rows, err := s.DB().Raw("SELECT name, type FROM pragma_table_info(?)", table).Rows()
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				c := column{table: table}
				if err := rows.Scan(&c.name, &c.kind); err != nil {
					t.Fatal(err)
				}
				cols = append(cols, c)
			}
			rows.Close()
		}
	}
	if len(cols) < 20 {
		t.Fatalf("found only %d columns to walk", len(cols))
	}
	var found []string
	for _, c := range cols {
		cond := "instr(CAST(" + c.name + " AS TEXT), ?) > 0"
		switch {
		case s.Dialect() != migrations.Postgres:
		case c.kind == "bytea":
			cond = "position(convert_to(?, 'UTF8') in " + c.name + ") > 0"
		default:
			cond = "strpos(" + c.name + "::text, ?) > 0"
		}
		var n int64
		if err := s.DB().Raw("SELECT count(*) FROM "+c.table+" WHERE "+cond, needle).Scan(&n).Error; err != nil {
			t.Fatalf("%s.%s: %v", c.table, c.name, err)
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%s.%s (%d rows)", c.table, c.name, n))
		}
	}
	return found
}

type fakeRevoker struct {
	theirs  []string
	revoked []string
	fail    error
}

func (f *fakeRevoker) AllAccounts(_ context.Context, _ string) ([]smile.Account, error) {
	var out []smile.Account
	for _, id := range f.theirs {
		out = append(out, smile.Account{ID: id})
	}
	return out, nil
}

func (f *fakeRevoker) RevokeAccount(_ context.Context, id string) error {
	if f.fail != nil {
		return f.fail
	}
	f.revoked = append(f.revoked, id)
	return nil
}

// TestEraseUser_LeavesNoTrace erases one user and checks no table holds their
// id, other users look exactly as before, projections equal a rebuild, their
// accounts were revoked at Smile first, and the audit entry names no one.
func TestEraseUser_LeavesNoTrace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		w := seedErasureWorld(t, s)
		if found := tablesHolding(t, s, w.victim); len(found) < 6 {
			t.Fatalf("the victim's id is only in %v; the seed is too thin", found)
		}
		otherBefore := userView(t, s, w.other, w.otherKey)
		eventsBefore := storetest.Count(t, s.DB().Model(&models.Event{}))
		victimEvents := storetest.Count(t, s.DB().Model(&models.Event{}).Where("user_key = ?", w.victimKey))

		revoker := &fakeRevoker{theirs: []string{"a-only-at-smile"}}
		report, err := ingest.New(s).EraseUser(ctx, ingest.EraseRequest{SmileUserID: w.victim, Actor: "admin@example.test", Revoker: revoker, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		if found := tablesHolding(t, s, w.victim); len(found) > 0 {
			t.Errorf("after erasure the user's id is still in %v", found)
		}
		if got := userView(t, s, w.other, w.otherKey); got != otherBefore {
			t.Errorf("another user changed:\n--- before\n%s\n--- after\n%s", otherBefore, got)
		}
		eventsAfter := storetest.Count(t, s.DB().Model(&models.Event{}))
		if eventsAfter != eventsBefore-victimEvents || report.Removed["events"] != victimEvents {
			t.Errorf("events: %d before, %d after, report %d; want exactly the victim's %d gone",
				eventsBefore, eventsAfter, report.Removed["events"], victimEvents)
		}
		tables := []string{"deliveries", "callbacks", "actions", "widget_sessions", "connect_links", "accounts", "tasks", "data_availability", "smile_users",
			"gaps", "search_docs"}
		if s.Dialect() != migrations.Postgres {
			tables = append(tables, "search_text")
		}
		for _, table := range tables {
			if report.Removed[table] == 0 {
				t.Errorf("report %v removed nothing from %s", report.Removed, table)
			}
		}
		slices.Sort(revoker.revoked)
		if want := []string{fmt.Sprintf("a-%032d", 2), "a-only-at-smile"}; !reflect.DeepEqual(revoker.revoked, want) || report.RevokedAtSmile != 2 {
			t.Errorf("revoked at Smile %v (report %d), want %v", revoker.revoked, report.RevokedAtSmile, want)
		}

		erased := storetest.DumpProjections(t, s)
		if _, err := ingest.New(s).Reproject(ctx); err != nil {
			t.Fatal(err)
		}
		if rebuilt := storetest.DumpProjections(t, s); rebuilt != erased {
			t.Errorf("projections after erasure differ from a rebuild:\n--- erased\n%s\n--- rebuilt\n%s", erased, rebuilt)
		}

		audits, err := s.AuditLog(ctx, models.AuditQuery{Action: models.AuditUserErased})
		if err != nil || len(audits.Entries) != 1 {
			t.Fatalf("got audits %v, %v; want one", audits, err)
		}
		a := audits.Entries[0]
		if a.Actor != "admin@example.test" || a.Target != ingest.ErasureKey(w.victim) || !strings.Contains(a.Details, `"events":`) {
			t.Errorf("audit entry %+v lacks the actor, the hashed id or the counts", a)
		}
		for _, personal := range []string{w.victim, "crm-2", "a-0000", "login2", "synth"} {
			if strings.Contains(a.Target+a.Details, personal) {
				t.Errorf("audit entry %q %q holds personal data %q", a.Target, a.Details, personal)
			}
		}
		if _, err := ingest.New(s).EraseUser(ctx, ingest.EraseRequest{SmileUserID: w.victim}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("erasing again: got %v, want not found", err)
		}
		// The running writer still knows the id's old key: a later webhook
		// for the user is stored, not refused.
		late := storetest.RawEvent("et-after-erasure", "ACCOUNT_CONNECTED", t0, `{"userId":"`+w.victim+`","accountId":"a-late","providers":["p"]}`)
		if got := storetest.Submit(t, w.in, late); got != ingest.Stored {
			t.Errorf("a webhook for the erased user after erasure: got %v, want Stored", got)
		}
	})
}

// TestEraseUser_SmileRefusesNothingErased checks that when revoking at Smile
// fails, nothing is erased here, so the admin can retry.
func TestEraseUser_SmileRefusesNothingErased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		w := seedErasureWorld(t, s)
		before := tablesHolding(t, s, w.victim)
		_, err := ingest.New(s).EraseUser(context.Background(), ingest.EraseRequest{SmileUserID: w.victim,
			Revoker: &fakeRevoker{fail: errors.New("smile is down")}})
		if err == nil || !strings.Contains(err.Error(), "nothing was erased") {
			t.Fatalf("got %v, want an error saying nothing was erased", err)
		}
		if after := tablesHolding(t, s, w.victim); !reflect.DeepEqual(after, before) {
			t.Errorf("data changed although Smile refused: before %v, after %v", before, after)
		}
	})
}

// TestEraseUser_UnknownID refuses ids nothing names, and empty ones.
func TestEraseUser_UnknownID(t *testing.T) {
	s := storetest.SQLite(t)
	for _, id := range []string{"nobody", "", "  "} {
		if _, err := ingest.New(s).EraseUser(context.Background(), ingest.EraseRequest{SmileUserID: id}); err == nil {
			t.Errorf("%q: erased without error", id)
		}
	}
}
