package models_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
)

func lcEvent(typ smile.EventType, id string, at time.Time) models.LifecycleEvent {
	return models.LifecycleEvent{Stamp: models.Stamp{At: at, EventID: id}, Type: typ}
}

func TestBuildLifecycle_Flags(t *testing.T) {
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	cases := []struct {
		name   string
		events []models.LifecycleEvent
		want   []string // state:flag per step
	}{
		{"ordinary", []models.LifecycleEvent{
			lcEvent(smile.AccountCreated, "e1", m(0)), lcEvent(smile.TaskStarted, "e2", m(1)),
			lcEvent(smile.AccountConnected, "e3", m(2)), lcEvent(smile.AccountDisconnected, "e4", m(9)),
		}, []string{"PENDING:", "CONNECTED:", "DISCONNECTED:"}},
		{"reconnected without ACCOUNT_CREATED", []models.LifecycleEvent{
			lcEvent(smile.AccountCreated, "e1", m(0)), lcEvent(smile.AccountConnected, "e2", m(1)),
			lcEvent(smile.AccountDisconnected, "e3", m(2)), lcEvent(smile.AccountConnected, "e4", m(3)),
		}, []string{"PENDING:", "CONNECTED:", "DISCONNECTED:", "CONNECTED:" + models.FlagReconnectedWithoutCreate}},
		{"relinked with ACCOUNT_CREATED", []models.LifecycleEvent{
			lcEvent(smile.AccountCreated, "e1", m(0)), lcEvent(smile.AccountDisconnected, "e3", m(2)),
			lcEvent(smile.AccountCreated, "e4", m(3)), lcEvent(smile.AccountConnected, "e5", m(4)),
		}, []string{"PENDING:", "DISCONNECTED:", "PENDING:", "CONNECTED:"}},
		{"error then connected without a task", []models.LifecycleEvent{
			lcEvent(smile.AccountCreated, "e1", m(0)), lcEvent(smile.AccountFailed, "e2", m(1)),
			lcEvent(smile.AccountConnected, "e3", m(2)),
		}, []string{"PENDING:", "ERROR:", "CONNECTED:" + models.FlagRecoveredWithoutTask}},
		{"error then a new task then connected", []models.LifecycleEvent{
			lcEvent(smile.AccountCreated, "e1", m(0)), lcEvent(smile.AccountFailed, "e2", m(1)),
			lcEvent(smile.TaskStarted, "e3", m(2)), lcEvent(smile.AccountConnected, "e4", m(3)),
		}, []string{"PENDING:", "ERROR:", "CONNECTED:"}},
		{"error after disconnected", []models.LifecycleEvent{
			lcEvent(smile.AccountCreated, "e1", m(0)), lcEvent(smile.AccountDisconnected, "e2", m(1)),
			lcEvent(smile.AccountFailed, "e3", m(2)),
		}, []string{"PENDING:", "DISCONNECTED:", "ERROR:" + models.FlagAfterDisconnected}},
		{"first state not PENDING, arriving out of order", []models.LifecycleEvent{
			lcEvent(smile.AccountDisconnected, "e2", m(5)), lcEvent(smile.AccountConnected, "e1", m(0)),
		}, []string{"CONNECTED:" + models.FlagNoCreated, "DISCONNECTED:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			steps := models.BuildLifecycle(tc.events, m(60))
			var got []string
			for _, s := range steps {
				got = append(got, s.State+":"+s.Flag)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got steps %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("step %d: got %s, want %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestAccountLifecycle_DurationsFromCreatedAt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		user, acc := "demotenant-life", "a-life"
		// Arrival order differs from Smile's createdAt; the lifecycle follows createdAt.
		storetest.Submit(t, in, gapEvent("et-3", smile.AccountDisconnected, user, acc, t0.Add(time.Hour)))
		storetest.Submit(t, in, gapEvent("et-1", smile.AccountCreated, user, acc, t0))
		storetest.Submit(t, in, gapEvent("et-2", smile.AccountConnected, user, acc, t0.Add(2*time.Minute)))
		storetest.Submit(t, in, gapEvent("et-4", smile.AccountConnected, user, acc, t0.Add(2*time.Hour)))
		lc, err := s.AccountLifecycle(context.Background(), acc, t0.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			state string
			d     time.Duration
			flag  string
		}{
			{"PENDING", 2 * time.Minute, ""}, {"CONNECTED", 58 * time.Minute, ""},
			{"DISCONNECTED", time.Hour, ""}, {"CONNECTED", time.Hour, models.FlagReconnectedWithoutCreate},
		}
		if len(lc.Steps) != len(want) {
			t.Fatalf("got %d steps %+v, want %d", len(lc.Steps), lc.Steps, len(want))
		}
		for i, w := range want {
			if st := lc.Steps[i]; st.State != w.state || st.Duration != w.d || st.Flag != w.flag {
				t.Errorf("step %d: got %s for %s flag %q, want %s for %s flag %q", i, st.State, st.Duration, st.Flag, w.state, w.d, w.flag)
			}
		}
		if _, err := s.AccountLifecycle(context.Background(), "a-none", t0); err == nil {
			t.Error("got no error for an unknown account")
		}
	})
}

// TestUserLifecycles_OneReadEqualsEachAccount: the user page reads every
// account's lifecycle in one pass over the user's events (it read them once
// per account, 522 ms for a user with 10,000 events); each must equal what
// AccountLifecycle reads for that account alone.
func TestUserLifecycles_OneReadEqualsEachAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx, now := context.Background(), qt0.Add(72*time.Hour)
		in := storetest.Writer(t, s)
		for _, body := range storetest.SyntheticHistory(3) {
			storetest.Submit(t, in, body)
		}
		// A second account for the first user, to read several at once.
		storetest.Submit(t, in, storetest.EventBody("et-second-c", "ACCOUNT_CREATED", qt0, map[string]any{"userId": "synth-00000000000000000000000000000000", "accountId": "a-second"}))
		storetest.Submit(t, in, storetest.EventBody("et-second-f", "ACCOUNT_FAILED", qt0.Add(time.Minute), map[string]any{"userId": "synth-00000000000000000000000000000000", "accountId": "a-second", "errorCode": "MFA_TIMEOUT"}))
		u, err := s.UserByID(ctx, "synth-00000000000000000000000000000000")
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.UserLifecycles(ctx, u.UserKey, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 {
			t.Fatalf("got lifecycles of %d accounts, want 2", len(all))
		}
		for id, got := range all {
			want, err := s.AccountLifecycle(ctx, id, now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || len(got.Steps) == 0 {
				t.Errorf("account %s: one pass gave %+v, alone %+v", id, got, want)
			}
		}
	})
}
