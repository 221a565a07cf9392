package models_test

import (
	"context"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
)

func TestStaleAccountsAndActionRequired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		now := t0.Add(30 * 24 * time.Hour)
		day := 24 * time.Hour
		count := map[string]any{"count": 2}
		// Stale: its only datapoint is ten days old.
		storetest.Submit(t, in, gapEvent("et-s0", smile.AccountConnected, "demotenant-st", "a-stale", now.Add(-11*day)))
		storetest.Submit(t, in, eventWith("et-s1", smile.IncomesAdded, "demotenant-st", "a-stale", now.Add(-10*day), count))
		// Fresh: one old datapoint, one refreshed yesterday.
		storetest.Submit(t, in, gapEvent("et-f0", smile.AccountConnected, "demotenant-st", "a-fresh", now.Add(-20*day)))
		storetest.Submit(t, in, eventWith("et-f1", smile.IncomesAdded, "demotenant-st", "a-fresh", now.Add(-20*day), count))
		storetest.Submit(t, in, eventWith("et-f2", smile.EmploymentsAdded, "demotenant-st", "a-fresh", now.Add(-day), count))
		// Old data but disconnected: expected not to refresh.
		storetest.Submit(t, in, eventWith("et-d1", smile.IncomesAdded, "demotenant-st", "a-gone", now.Add(-12*day), count))
		storetest.Submit(t, in, gapEvent("et-d2", smile.AccountDisconnected, "demotenant-st", "a-gone", now.Add(-11*day)))
		// The user must re-authorise this one.
		storetest.Submit(t, in, eventWith("et-m1", smile.AccountSyncTaskFinished, "demotenant-st", "", now.Add(-2*day),
			map[string]any{"sourceId": "a-mfa", "sourceType": "ACCOUNT", "status": "FAILED", "monitorStatus": models.MonitorUserActionRequired}))

		stale, err := s.StaleAccounts(context.Background(), now, 7*day, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(stale) != 1 || stale[0].AccountID != "a-stale" || stale[0].UserID != "demotenant-st" ||
			!stale[0].LastRefreshedAt.Equal(now.Add(-10*day)) {
			t.Errorf("got stale %+v, want only a-stale, refreshed ten days ago", stale)
		}
		if stale, _ := s.StaleAccounts(context.Background(), now, 15*day, 0); len(stale) != 0 {
			t.Errorf("got stale %+v with a 15-day age, want none", stale)
		}
		acts, err := s.ActionRequired(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) != 1 || acts[0].AccountID != "a-mfa" || acts[0].MonitorStatus != models.MonitorUserActionRequired {
			t.Errorf("got action list %+v, want a-mfa", acts)
		}
	})
}
