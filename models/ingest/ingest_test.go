package ingest_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile/smiletest"
)

func TestIngest_FixturesProjectState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		for _, body := range storetest.FixtureBodies() {
			if got := storetest.Submit(t, in, body); got != ingest.Stored {
				t.Fatalf("got result %v, want Stored", got)
			}
		}
		db := s.DB()
		var acc models.Account
		if err := db.Where("id = ?", smiletest.FixtureAccountID).Take(&acc).Error; err != nil {
			t.Fatal(err)
		}
		// ACCOUNT_DISCONNECTED (03-09) is the latest status event of the main account.
		if acc.Status != models.AccountDisconnected || acc.LoginName != "jdelacruz.demo" ||
			acc.ProviderID != "examplepayroll_ph" || acc.MonitorStatus != "ACTIVE" {
			t.Errorf("got account %+v", acc)
		}
		var failed models.Account
		if err := db.Where("id = ?", "a-e1c3a5b7d9f24c6e8a0b2d4f6a8c0e13").Take(&failed).Error; err != nil {
			t.Fatal(err)
		}
		if failed.Status != models.AccountError || failed.ErrorCode != "MFA_TIMEOUT" || failed.ProviderID != "demogig" {
			t.Errorf("got failed account %+v", failed)
		}
		var inc models.DataAvailability
		if err := db.Where("account_id = ? AND datapoint = ?", smiletest.FixtureAccountID, "INCOMES").Take(&inc).Error; err != nil {
			t.Fatal(err)
		}
		if inc.ItemsAdded != 6 || inc.ItemsUpdated != 2 || inc.Events != 2 {
			t.Errorf("got incomes availability %+v, want 6 added, 2 updated, 2 events", inc)
		}
		var ident models.DataAvailability
		if err := db.Where("account_id = ? AND datapoint = ?", smiletest.FixtureAccountID, "IDENTITY").Take(&ident).Error; err != nil {
			t.Fatal(err)
		}
		if ident.ItemsAdded != 1 || !ident.InTask {
			t.Errorf("got identity availability %+v, want 1 added and delivered by the task", ident)
		}
		var archives []models.Archive
		if err := db.Order("id").Find(&archives).Error; err != nil {
			t.Fatal(err)
		}
		if len(archives) != 2 || archives[0].Status != "REVOKED" || archives[1].Status != "ERROR" || archives[1].ErrorCode != "INVALID_FIELD_FORMAT" {
			t.Errorf("got archives %+v", archives)
		}
		var inv models.Invite
		if err := db.Take(&inv).Error; err != nil {
			t.Fatal(err)
		}
		if inv.Status != "LINKED" || inv.InvitedAt == nil || inv.LinkedAt == nil {
			t.Errorf("got invite %+v", inv)
		}
		var task models.Task
		if err := db.Where("source_id = ? AND task_type = ?", smiletest.FixtureAccountID, "LINK_ACCOUNT").Take(&task).Error; err != nil {
			t.Fatal(err)
		}
		if task.Status != "SUCCEEDED" || task.Runs != 1 || task.Datapoints != "IDENTITIES,EMPLOYMENTS,CONTRIBUTIONS" {
			t.Errorf("got task %+v", task)
		}
		var rec models.Record
		if err := db.Take(&rec).Error; err != nil {
			t.Fatal(err)
		}
		if rec.Status != "COMPLETED" || rec.ResultCode != "SUCCESS" {
			t.Errorf("got record %+v", rec)
		}
		var ver models.Verification
		if err := db.Take(&ver).Error; err != nil {
			t.Fatal(err)
		}
		if ver.Status != "COMPLETED" || ver.ResultCode != "SUCCESS" {
			t.Errorf("got verification %+v", ver)
		}
		var user models.SmileUser
		if err := db.Where("id = ?", smiletest.FixtureUserID).Take(&user).Error; err != nil {
			t.Fatal(err)
		}
		// Every fixture but the record and verification ones names the user.
		if user.EventCount != 33 || user.SessionStatus != "IN_PROGRESS" || user.SmileCreatedAt == nil {
			t.Errorf("got user %+v, want 33 events and the reset session", user)
		}
		var counts []models.EventCount
		if err := db.Find(&counts).Error; err != nil {
			t.Fatal(err)
		}
		if len(counts) != 37 {
			t.Errorf("got %d event counts, want 37", len(counts))
		}
	})
}

func TestIngest_DuplicateStoredOnceAndCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		body := smiletest.Event("ACCOUNT_CONNECTED")
		const copies = 64
		var wg sync.WaitGroup
		results := make(chan ingest.Result, copies)
		for range copies {
			wg.Go(func() {
				res, err := in.Submit(context.Background(), storetest.Incoming(t, body))
				if err != nil {
					t.Errorf("submit: %v", err)
				}
				results <- res
			})
		}
		wg.Wait()
		close(results)
		stored := 0
		for r := range results {
			if r == ingest.Stored {
				stored++
			}
		}
		if stored != 1 {
			t.Errorf("got %d Stored results, want 1", stored)
		}
		var ev models.Event
		if err := s.DB().Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Deliveries != copies || string(ev.Body) != string(body) {
			t.Errorf("got %d deliveries (body equal: %v), want %d and the exact body", ev.Deliveries, string(ev.Body) == string(body), copies)
		}
		dups := storetest.Count(t, s.DB().Model(&models.Delivery{}).Where("outcome = ?", models.OutcomeDuplicate))
		if dups != copies-1 {
			t.Errorf("got %d duplicate delivery records, want %d", dups, copies-1)
		}
		storetest.Sync(t, s)
		var acc models.Account
		if err := s.DB().Take(&acc).Error; err != nil {
			t.Fatal(err)
		}
		if acc.EventCount != 1 {
			t.Errorf("got account event count %d, want 1: duplicates must not project", acc.EventCount)
		}
	})
}

func TestIngest_LateOlderEventDoesNotMoveStateBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		storetest.Submit(t, in, smiletest.Event("ACCOUNT_DISCONNECTED"))
		storetest.Submit(t, in, smiletest.Event("ACCOUNT_CONNECTED"))
		storetest.Submit(t, in, smiletest.Event("ACCOUNT_CREATED"))
		var acc models.Account
		if err := s.DB().Where("id = ?", smiletest.FixtureAccountID).Take(&acc).Error; err != nil {
			t.Fatal(err)
		}
		if acc.Status != models.AccountDisconnected {
			t.Errorf("got status %s, want DISCONNECTED: older events arrived late", acc.Status)
		}
		if acc.LoginName != "jdelacruz.demo" {
			t.Errorf("got login name %q, want the one ACCOUNT_CONNECTED carried", acc.LoginName)
		}
	})
}

func TestIngest_UnknownTypeStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		body := []byte(`{"id":"et-new-1","version":2,"type":"PAYSLIP_GENERATED","createdAt":"2026-05-01T00:00:00Z","data":{"userId":"u-x","accountId":"a-x"}}`)
		if got := storetest.Submit(t, in, body); got != ingest.Stored {
			t.Fatalf("got %v, want Stored", got)
		}
		var ev models.Event
		if err := s.DB().Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Type != "PAYSLIP_GENERATED" || ev.UserKey == nil {
			t.Errorf("got %+v, want the unknown type stored against its user", ev)
		}
	})
}

// TestReproject_MatchesIncremental ingests the fixtures and a simulated history
// in a shuffled order with duplicates, then rebuilds every projection from the
// log and requires identical tables.
func TestReproject_MatchesIncremental(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		bodies := append(storetest.FixtureBodies(), storetest.SyntheticHistory(40)...)
		rng := rand.New(rand.NewPCG(1, 2))
		rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < len(bodies); i += 8 {
					storetest.Submit(t, in, bodies[i])
					if i%5 == 0 {
						storetest.Submit(t, in, bodies[i])
					}
				}
			})
		}
		wg.Wait()
		before := storetest.DumpProjections(t, s)
		n, err := ingest.New(s).Reproject(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != len(bodies) {
			t.Errorf("replayed %d events, want %d", n, len(bodies))
		}
		after := storetest.DumpProjections(t, s)
		if before != after {
			t.Errorf("rebuilt projections differ from incremental ones:\n--- incremental\n%s\n--- rebuilt\n%s", before, after)
		}
		if !strings.Contains(before, "CONNECTED") {
			t.Error("dump holds no connected account; the test data is too thin")
		}
	})
}
