package models_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile"
)

// gapEvent builds a webhook body for user and account stamped at.
func gapEvent(id string, typ smile.EventType, user, account string, at time.Time) []byte {
	return eventWith(id, typ, user, account, at, nil)
}

// eventWith is gapEvent with extra data fields.
func eventWith(id string, typ smile.EventType, user, account string, at time.Time, extra map[string]any) []byte {
	data := map[string]any{"userId": user}
	for k, v := range extra {
		data[k] = v
	}
	if account != "" {
		data["accountId"] = account
	}
	if typ == smile.ArchiveStarted {
		data["archiveId"] = "archive-" + id
	}
	b, _ := json.Marshal(map[string]any{"id": id, "version": 1, "type": typ, "createdAt": at.UTC().Format(time.RFC3339), "data": data})
	return b
}

// linkedUser makes a connect link bound to a Smile user and returns its key.
func linkedUser(t *testing.T, s *models.Store, smileID string) int64 {
	t.Helper()
	l, err := s.AttachSmileUser(context.Background(), createLink(t, s, "ref-"+smileID, nil).ID, smileID)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	return *l.UserKey
}

func claim(t *testing.T, s *models.Store, key int64, name smile.Callback, account string, at time.Time) {
	t.Helper()
	args := fmt.Sprintf(`{"accountId":%q}`, account)
	if err := s.CreateCallback(context.Background(), &models.Callback{ReceivedAt: at, UserKey: &key, Name: string(name), AccountID: account, Args: json.RawMessage(args)}); err != nil {
		t.Fatalf("store callback: %v", err)
	}
}

func gapsOf(t *testing.T, s *models.Store, status string, now time.Time, user ...string) []models.Gap {
	t.Helper()
	q := models.GapQuery{Status: status, Now: now}
	if len(user) > 0 {
		q.UserID = user[0]
	}
	page, err := s.Gaps(context.Background(), q)
	if err != nil {
		t.Fatalf("gaps: %v", err)
	}
	return page.Gaps
}

// dumpGaps is the gaps table in a stable order, without ids.
func dumpGaps(t *testing.T, s *models.Store) string {
	t.Helper()
	var rows []models.Gap
	if err := s.DB().Order("kind, user_key, claimed_at, event_id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, g := range rows {
		closed := "-"
		if g.ClosedAt != nil {
			closed = g.ClosedAt.UTC().Format(time.RFC3339) + " by " + g.ClosedBy + fmt.Sprintf(" lag %d", *g.LagSeconds)
		}
		fmt.Fprintf(&b, "%s u%d %s %s %s cb=%v\n", g.Kind, g.UserKey, g.AccountID, g.ClaimedAt.UTC().Format(time.RFC3339Nano), closed, g.CallbackID != nil)
	}
	return b.String()
}

func TestGaps_EachKindWaitingOpenClosedAndRebuilt(t *testing.T) {
	rules := []struct {
		kind     string
		callback smile.Callback
		event    smile.EventType
	}{
		{models.GapAccountConnected, smile.OnAccountConnected, smile.AccountConnected},
		{models.GapAccountError, smile.OnAccountError, smile.AccountFailed},
		{models.GapUploadsCreated, smile.OnUploadsCreated, smile.ArchiveStarted},
		{models.GapAccountRemoved, smile.OnAccountRemoved, smile.AccountDisconnected},
	}
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		for i, r := range rules {
			user := fmt.Sprintf("demotenant-gap%d", i)
			key := linkedUser(t, s, user)
			acc := fmt.Sprintf("a-gap%d", i)
			// In time, webhook first: matched, never a gap.
			storetest.Submit(t, in, gapEvent(fmt.Sprintf("et-%d-early", i), r.event, user, acc, t0.Add(-time.Second)))
			claim(t, s, key, r.callback, acc, t0)
			// A claim that a late webhook closes, twenty minutes after.
			claim(t, s, key, r.callback, acc+"-late", t0.Add(time.Hour))
			// A claim nothing answers.
			claim(t, s, key, r.callback, acc+"-never", t0.Add(2*time.Hour))

			now := t0.Add(2*time.Hour + 5*time.Minute)
			waiting := gapsOf(t, s, models.GapWaiting, now, user)
			if len(waiting) != 1 || waiting[0].Kind != r.kind || waiting[0].AccountID != acc+"-never" {
				t.Fatalf("%s: waiting gaps %+v, want the unanswered claim inside the window", r.kind, waiting)
			}
			open := gapsOf(t, s, models.GapOpen, now, user)
			if len(open) != 1 || open[0].AccountID != acc+"-late" || open[0].UserID != user {
				t.Fatalf("%s: open gaps %+v, want the claim past the window", r.kind, open)
			}
			storetest.Submit(t, in, gapEvent(fmt.Sprintf("et-%d-late", i), r.event, user, acc+"-late", t0.Add(time.Hour+20*time.Minute)))
			closed := gapsOf(t, s, models.GapClosed, now, user)
			if len(closed) != 1 || closed[0].ClosedAt == nil || !closed[0].ClosedAt.Equal(t0.Add(time.Hour+20*time.Minute)) ||
				closed[0].ClosedBy != fmt.Sprintf("et-%d-late", i) {
				t.Fatalf("%s: closed gaps %+v, want the late claim closed when its webhook was stamped", r.kind, closed)
			}
			if got := gapsOf(t, s, models.GapOpen, now, user); len(got) != 0 {
				t.Fatalf("%s: open gaps %+v after the late webhook, want none", r.kind, got)
			}
			later := now.Add(10 * time.Minute)
			if got := gapsOf(t, s, models.GapOpen, later, user); len(got) != 1 || got[0].AccountID != acc+"-never" {
				t.Fatalf("%s: open gaps %+v once the window passed, want the unanswered claim", r.kind, got)
			}
			// Tidy up for the next kind: answer the last claim late.
			storetest.Submit(t, in, gapEvent(fmt.Sprintf("et-%d-never", i), r.event, user, acc+"-never", t0.Add(3*time.Hour)))
		}
		counts, err := s.GapCounts(context.Background(), t0.Add(4*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if counts.Open.N != 0 || counts.Waiting.N != 0 || counts.Closed.N != 8 {
			t.Errorf("got counts %+v, want 8 closed late, none open or waiting", counts)
		}
		before := dumpGaps(t, s)
		if _, err := ingest.New(s).Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		if after := dumpGaps(t, s); after != before {
			t.Errorf("rebuild changed the gaps:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestGaps_EarlierWebhookArrivingLaterWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		key := linkedUser(t, s, "demotenant-order")
		claim(t, s, key, smile.OnAccountConnected, "a-order", t0)
		storetest.Submit(t, in, gapEvent("et-b", smile.AccountConnected, "demotenant-order", "a-order", t0.Add(30*time.Minute)))
		storetest.Submit(t, in, gapEvent("et-a", smile.AccountConnected, "demotenant-order", "a-order", t0.Add(time.Minute)))
		if got := gapsOf(t, s, models.GapAll, t0.Add(time.Hour)); len(got) != 0 {
			t.Errorf("got gaps %+v, want the claim matched by the webhook stamped in time", got)
		}
		if got := gapsOf(t, s, models.GapMatched, t0.Add(time.Hour)); len(got) != 1 || got[0].ClosedBy != "et-a" {
			t.Errorf("got matched %+v, want closed by et-a", got)
		}
	})
}

func TestGaps_NoLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		linkedUser(t, s, "demotenant-linked")
		storetest.Submit(t, in, gapEvent("et-l1", smile.UserCreated, "demotenant-linked", "", t0))
		storetest.Submit(t, in, gapEvent("et-s1", smile.UserCreated, "demotenant-stranger", "", t0))
		storetest.Submit(t, in, gapEvent("et-s2", smile.AccountCreated, "demotenant-stranger", "a-s", t0.Add(time.Minute)))
		storetest.Submit(t, in, gapEvent("et-r1", smile.UserCreated, "demotenant-racer", "", t0))

		got := gapsOf(t, s, models.GapOpen, t0.Add(time.Hour))
		if len(got) != 2 {
			t.Fatalf("got %d open gaps %+v, want the two users without a link", len(got), got)
		}
		for _, g := range got {
			if g.Kind != models.GapNoLink || g.UserID == "demotenant-linked" {
				t.Errorf("got gap %+v, want no_link for an unlinked user", g)
			}
			if g.UserID == "demotenant-stranger" && g.EventID != "et-s1" {
				t.Errorf("got first webhook %s, want et-s1", g.EventID)
			}
		}
		// The racer's link is bound after its webhook: no gap after all.
		linkedUser(t, s, "demotenant-racer")
		if got := gapsOf(t, s, models.GapOpen, t0.Add(time.Hour)); len(got) != 1 || got[0].UserID != "demotenant-stranger" {
			t.Fatalf("got %+v, want only the stranger", got)
		}
		before := dumpGaps(t, s)
		if _, err := ingest.New(s).Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		if after := dumpGaps(t, s); after != before {
			t.Errorf("rebuild changed the gaps:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}
