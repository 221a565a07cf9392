package models_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
)

// fakeSmile is the sandbox API behind a real client, in process.
func fakeSmile(t *testing.T) (*fakeapi.Server, *smile.Client) {
	t.Helper()
	api := fakeapi.New(fakeapi.Options{})
	c, err := smile.NewClient(smile.ClientConfig{
		BaseURL: "http://fake.smile.invalid/v1", APIKey: "k", APISecret: "s",
		HTTPClient: &http.Client{Transport: fakeapi.Transport(api)}, MaxRetries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return api, c
}

func TestCheckWithSmile_ShowsDisagreementAndIsRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		api, client := fakeSmile(t)
		u, _, err := client.CreateUser(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := api.AddAccount(u.ID, "examplepayroll_ph", models.AccountConnected, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := storetest.Writer(t, s)
		prov := map[string]any{"providers": []string{"examplepayroll_ph"}}
		storetest.Submit(t, in, eventWith("et-c1", smile.AccountCreated, u.ID, acc.ID, t0, prov))
		// The deliberate disagreement: we hold ERROR, Smile says CONNECTED.
		storetest.Submit(t, in, eventWith("et-c2", smile.AccountFailed, u.ID, acc.ID, t0.Add(time.Minute),
			map[string]any{"errorCode": "INVALID_CREDENTIALS", "providers": []string{"examplepayroll_ph"}}))
		storetest.Submit(t, in, gapEvent("et-c3", smile.AccountCreated, u.ID, "a-ours-only", t0))

		res, err := s.CheckUser(ctx, client, u.ID, "admin@example.com", t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{ // differing field → ours, Smile's
			acc.ID + " connectionStatus": {"ERROR", "CONNECTED"},
			acc.ID + " errorCode":        {"INVALID_CREDENTIALS", "(none)"},
			"a-ours-only exists":         {"yes", "no"},
		}
		got := map[string][2]string{}
		for _, f := range res.Fields {
			if f.Differs {
				got[f.AccountID+" "+f.Field] = [2]string{f.Ours, f.Smile}
			}
		}
		if len(got) != len(want) || res.Differences != len(want) || res.Agrees() {
			t.Fatalf("got differences %v (%d), want %v", got, res.Differences, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: got %v, want %v", k, got[k], v)
			}
		}
		userRow, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, ok, err := s.LatestCheck(ctx, userRow.UserKey)
		if err != nil || !ok || last.Differences != 3 || last.Actor != "admin@example.com" {
			t.Fatalf("got latest check %+v ok=%v err=%v, want the check recorded on the timeline", last, ok, err)
		}

		// Once Smile and we agree, the account check says so.
		if err := api.SetAccountStatus(acc.ID, "ERROR", ptrTo("INVALID_CREDENTIALS"), nil); err != nil {
			t.Fatal(err)
		}
		one, err := s.CheckAccount(ctx, client, acc.ID, "admin@example.com", t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !one.Agrees() || one.AccountID != acc.ID {
			t.Errorf("got %+v, want agreement on the account", one)
		}
		// A user Smile does not know is recorded with Smile's answer.
		linkedUser(t, s, "demotenant-unknown")
		miss, err := s.CheckUser(ctx, client, "demotenant-unknown", "admin@example.com", t0)
		if err != nil || miss.Error == "" {
			t.Errorf("got %+v, %v; want a recorded check saying Smile does not know the user", miss, err)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

func TestCheckSweep_RespectsBudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		_, client := fakeSmile(t)
		key := linkedUser(t, s, "demotenant-sweep")
		for i := range 5 {
			claim(t, s, key, smile.OnAccountConnected, "a-sweep-"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Second))
		}
		now := t0.Add(time.Hour)
		w := &models.CheckSweep{Store: s, API: client, Budget: 3, Now: func() time.Time { return now }}
		steps := []struct {
			advance time.Duration
			want    int
		}{{0, 3}, {0, 0}, {30 * time.Minute, 0}, {31 * time.Minute, 2}, {2 * time.Hour, 0}}
		for i, st := range steps {
			now = now.Add(st.advance)
			n, err := w.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != st.want {
				t.Fatalf("round %d: got %d checks, want %d", i, n, st.want)
			}
		}
		var recorded int64
		if err := s.DB().Model(&models.Action{}).Where("kind = ?", models.ActionSmileChecked).Count(&recorded).Error; err != nil {
			t.Fatal(err)
		}
		if recorded != 5 {
			t.Errorf("got %d checks on the timeline, want 5", recorded)
		}
	})
}
