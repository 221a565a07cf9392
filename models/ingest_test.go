package models_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
)

func newIngester(t *testing.T, s *models.Store) *models.Ingester {
	t.Helper()
	in, err := s.NewIngester(models.IngestOptions{})
	if err != nil {
		t.Fatalf("new ingester: %v", err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	return in
}

func incoming(t testing.TB, body []byte) *models.Incoming {
	t.Helper()
	env, err := smile.ParseEnvelope(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &models.Incoming{Envelope: env, Body: body, SourceIP: "18.142.61.230", ReceivedAt: time.Now()}
}

func submit(t testing.TB, in *models.Ingester, body []byte) models.Result {
	t.Helper()
	res, err := in.Submit(context.Background(), incoming(t, body))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	// The projections follow the acknowledgement; these tests read them next.
	if err := in.SyncProjections(context.Background()); err != nil {
		t.Fatalf("sync projections: %v", err)
	}
	return res
}

func fixtureBodies() [][]byte {
	var out [][]byte
	for _, typ := range smiletest.EventTypes() {
		out = append(out, smiletest.Event(typ))
	}
	return out
}

func TestIngest_FixturesProjectState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := newIngester(t, s)
		for _, body := range fixtureBodies() {
			if got := submit(t, in, body); got != models.Stored {
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
		in := newIngester(t, s)
		body := smiletest.Event("ACCOUNT_CONNECTED")
		const copies = 64
		var wg sync.WaitGroup
		results := make(chan models.Result, copies)
		for range copies {
			wg.Go(func() {
				res, err := in.Submit(context.Background(), incoming(t, body))
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
			if r == models.Stored {
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
		var dups int64
		s.DB().Model(&models.Delivery{}).Where("outcome = ?", models.OutcomeDuplicate).Count(&dups)
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
		in := newIngester(t, s)
		submit(t, in, smiletest.Event("ACCOUNT_DISCONNECTED"))
		submit(t, in, smiletest.Event("ACCOUNT_CONNECTED"))
		submit(t, in, smiletest.Event("ACCOUNT_CREATED"))
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
		in := newIngester(t, s)
		body := []byte(`{"id":"et-new-1","version":2,"type":"PAYSLIP_GENERATED","createdAt":"2026-05-01T00:00:00Z","data":{"userId":"u-x","accountId":"a-x"}}`)
		if got := submit(t, in, body); got != models.Stored {
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
		in := newIngester(t, s)
		bodies := append(fixtureBodies(), syntheticHistory(40)...)
		rng := rand.New(rand.NewPCG(1, 2))
		rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < len(bodies); i += 8 {
					submit(t, in, bodies[i])
					if i%5 == 0 {
						submit(t, in, bodies[i])
					}
				}
			})
		}
		wg.Wait()
		before := dumpProjections(t, s)
		n, err := s.Reproject(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != len(bodies) {
			t.Errorf("replayed %d events, want %d", n, len(bodies))
		}
		after := dumpProjections(t, s)
		if before != after {
			t.Errorf("rebuilt projections differ from incremental ones:\n--- incremental\n%s\n--- rebuilt\n%s", before, after)
		}
		if !strings.Contains(before, "CONNECTED") {
			t.Error("dump holds no connected account; the test data is too thin")
		}
	})
}

// syntheticHistory makes n users' worth of account histories with some
// deliberately tied timestamps, so ordering by id is exercised.
func syntheticHistory(users int) [][]byte {
	var out [][]byte
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	seq := 0
	add := func(typ string, at time.Time, data string) {
		seq++
		out = append(out, fmt.Appendf(nil, `{"id":"et-syn-%06d","version":1,"type":%q,"createdAt":%q,"data":%s}`,
			seq, typ, at.Format(time.RFC3339), data))
	}
	for u := range users {
		user := fmt.Sprintf("synth-%032d", u)
		acc := fmt.Sprintf("a-%032d", u)
		at := base.Add(time.Duration(u) * time.Minute)
		ids := fmt.Sprintf(`"userId":%q,"accountId":%q,"providers":["prov%d"]`, user, acc, u%3)
		add("USER_CREATED", at, fmt.Sprintf(`{"userId":%q}`, user))
		add("ACCOUNT_CREATED", at.Add(time.Second), "{"+ids+"}")
		if u%4 == 0 {
			add("ACCOUNT_FAILED", at.Add(2*time.Second), "{"+ids+`,"loginName":"l`+fmt.Sprint(u)+`","errorCode":"INVALID_CREDENTIALS","errorMessage":"wrong"}`)
		}
		add("ACCOUNT_CONNECTED", at.Add(2*time.Second), "{"+ids+`,"loginName":"login`+fmt.Sprint(u)+`"}`)
		add("TASK_STARTED", at.Add(3*time.Second), fmt.Sprintf(`{"userId":%q,"sourceId":%q,"sourceType":"ACCOUNT","taskType":"LINK_ACCOUNT","providers":["p"]}`, user, acc))
		add("INCOMES_ADDED", at.Add(4*time.Second), "{"+ids+`,"count":3}`)
		add("EMPLOYMENTS_ADDED", at.Add(4*time.Second), "{"+ids+`,"count":1}`)
		add("TASK_FINISHED", at.Add(5*time.Second), fmt.Sprintf(`{"userId":%q,"sourceId":%q,"sourceType":"ACCOUNT","taskType":"LINK_ACCOUNT","status":"SUCCEEDED","errorCode":null,"providers":["p"],"datapoints":["INCOMES","EMPLOYMENTS"]}`, user, acc))
		if u%3 == 0 {
			add("ACCOUNT_DISCONNECTED", at.Add(time.Hour), "{"+ids+"}")
		}
	}
	return out
}

func dumpProjections(t *testing.T, s *models.Store) string {
	t.Helper()
	storetest.Sync(t, s)
	// The overview's counters are projections too; a rebuild must give them back.
	return storetest.Dump(t, s, append(storetest.ProjectionQueries(),
		"SELECT * FROM event_hourly ORDER BY hour, type, provider_id, error_code",
		"SELECT * FROM event_daily ORDER BY day, type, provider_id, error_code")...)
}
