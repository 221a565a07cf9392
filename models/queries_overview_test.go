package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

var ot0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

// seedOverview stores a small connect story in the day after ot0: three links
// opened (one twice), two of whose widgets called back, three accounts created
// (two at provA), one connected, one failed, one datapoint webhook, and one
// event three days later, outside the range.
func seedOverview(t *testing.T, s *models.Store) {
	t.Helper()
	ctx := context.Background()
	in := storetest.Writer(t, s)
	acc := func(id, typ string, at time.Duration, extra map[string]any) {
		data := map[string]any{"userId": "u-ov", "accountId": id}
		for k, v := range extra {
			data[k] = v
		}
		storetest.Submit(t, in, storetest.EventBody(fmt.Sprintf("et-ov-%s-%s", id, typ), typ, ot0.Add(at), data))
	}
	acc("a1", "ACCOUNT_CREATED", 10*time.Minute, map[string]any{"providers": []string{"provA"}})
	acc("a2", "ACCOUNT_CREATED", 11*time.Minute, map[string]any{"providers": []string{"provA"}})
	acc("a3", "ACCOUNT_CREATED", 12*time.Minute, map[string]any{"providers": []string{"provB"}})
	acc("a1", "ACCOUNT_CONNECTED", 70*time.Minute, nil) // no provider: counted under the account's
	acc("a2", "ACCOUNT_FAILED", 80*time.Minute, map[string]any{"errorCode": "INVALID_CREDENTIALS"})
	acc("a1", "EMPLOYMENTS_ADDED", 2*time.Hour, map[string]any{"count": 2})
	acc("a3", "ACCOUNT_DISCONNECTED", 72*time.Hour, nil)
	for i := range 3 {
		l, err := s.CreateLink(ctx, models.NewLink{ExternalRef: fmt.Sprintf("ref-%d", i), CreatedBy: "test", Now: ot0})
		if err != nil {
			t.Fatal(err)
		}
		for range 1 + i/2 { // the last link is opened twice
			if err := s.MarkLinkOpened(ctx, l, ot0.Add(time.Minute), nil); err != nil {
				t.Fatal(err)
			}
		}
		for range i { // the first link's widget never called back
			cb := &models.Callback{ReceivedAt: ot0.Add(2 * time.Minute), LinkID: &l.ID, Name: "onUIEvent"}
			if err := s.CreateCallback(ctx, cb); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestInsight_CountsFromHourlyCounters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedOverview(t, s)
		got, err := s.Insight(context.Background(), models.InsightQuery{From: ot0, To: ot0.Add(24 * time.Hour), Bucket: 6 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if got.Events != 6 || got.Families[models.FamilyAccount] != 5 || got.Families[models.FamilyData] != 1 {
			t.Errorf("got %d events, families %v; want 6: 5 account, 1 data", got.Events, got.Families)
		}
		if len(got.Volume) != 4 || got.Volume[0].Total != 6 || got.Volume[0].ByFamily[models.FamilyData] != 1 || got.Volume[1].Total != 0 {
			t.Errorf("got volume %+v, want 4 buckets of 6 h, all 6 events in the first", got.Volume)
		}
		if len(got.Errors) != 1 || got.Errors[0] != (models.ErrorCodeCount{Code: "INVALID_CREDENTIALS", Type: "ACCOUNT_FAILED", N: 1}) {
			t.Errorf("got errors %+v, want one INVALID_CREDENTIALS", got.Errors)
		}
		want := map[string]int64{models.AccountPending: 0, models.AccountConnected: 1, models.AccountError: 1, models.AccountDisconnected: 1}
		for _, st := range got.Accounts {
			if n, ok := want[st.Status]; ok && st.Count.N != n {
				t.Errorf("got %d %s accounts, want %d", st.Count.N, st.Status, n)
			}
		}
		if got.Users.N != 1 {
			t.Errorf("got %d users, want 1", got.Users.N)
		}
		daily, err := s.Insight(context.Background(), models.InsightQuery{From: ot0, To: ot0.Add(48 * time.Hour), Bucket: 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if len(daily.Volume) != 2 || daily.Volume[0].Total != 6 || daily.Events != 6 || len(daily.Errors) != 1 {
			t.Errorf("by day: got %d events in %+v, want 6 on the first of 2 days", daily.Events, daily.Volume)
		}
		if h := got.Health; h.Last == nil || h.Last.Type != "ACCOUNT_DISCONNECTED" || len(h.Secrets) != 1 || h.Secrets[0].N != 7 {
			t.Errorf("got health %+v, want the last event and 7 events on secret 0", h)
		}
	})
}

func TestFunnel_StepsAndProviders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedOverview(t, s)
		f, err := s.Funnel(context.Background(), ot0, ot0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := models.FunnelSteps{LinksOpened: 3, WidgetsOpened: 2, Created: 3, Connected: 1, Failed: 1}
		if f.Overall != want {
			t.Errorf("got overall %+v, want %+v", f.Overall, want)
		}
		if len(f.Providers) != 2 || f.Providers[0].Provider != "provA" || f.Providers[1].Provider != "provB" ||
			f.Providers[0].FunnelSteps != (models.FunnelSteps{Created: 2, Connected: 1, Failed: 1}) ||
			f.Providers[1].FunnelSteps != (models.FunnelSteps{Created: 1}) {
			t.Errorf("got providers %+v, want provA 2/1/1 and provB 1/0/0", f.Providers)
		}
		// Not on day boundaries: the hourly counters give the same answer.
		hourly, err := s.Funnel(context.Background(), ot0.Add(-time.Hour), ot0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if hourly.Overall != want {
			t.Errorf("by hour: got %+v, want %+v", hourly.Overall, want)
		}
		later, err := s.Funnel(context.Background(), ot0.Add(24*time.Hour), ot0.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if later.Overall != (models.FunnelSteps{}) {
			t.Errorf("got %+v the next day, want nothing", later.Overall)
		}
	})
}

func TestEvents_FamilyFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		seedOverview(t, s)
		for family, want := range map[string]int{models.FamilyData: 1, models.FamilyAccount: 6, models.FamilyOther: 0, "nonsense": 0} {
			page, err := s.Events(context.Background(), models.EventsQuery{Family: family})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != want {
				t.Errorf("family %s: got %d events, want %d", family, len(page.Events), want)
			}
		}
	})
}
