package ingest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/migrations"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// TestProjector_ParksWhatItCannotProject stores an event whose body no longer
// parses and one the database refuses to project (a trigger on accounts),
// among good ones: the good ones are projected, the two are parked with their
// reason, the lag counts them, and a rebuild tries them again.
func TestProjector_ParksWhatItCannotProject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		refuseAccount(t, s, "a-poison")
		in := storetest.Writer(t, s)
		submitOnly(t, in, storetest.EventBody("et-good-1", "ACCOUNT_CONNECTED", qt0, map[string]any{"userId": "u-good", "accountId": "a-good"}))
		submitOnly(t, in, storetest.EventBody("et-poison", "ACCOUNT_CONNECTED", qt0, map[string]any{"userId": "u-bad", "accountId": "a-poison"}))
		// A body that no longer parses can only come from outside the writer
		// (a restore gone wrong); store it as such.
		if err := s.DB().Exec("INSERT INTO events (event_id, type, created_at, received_at, account_id, source_ip, secret_index, flags, body) "+
			"VALUES (?, ?, ?, ?, '', '', 0, '', ?)", "et-garbled", "ACCOUNT_CONNECTED", qt0, time.Now().UTC(), []byte("{not json")).Error; err != nil {
			t.Fatal(err)
		}
		submitOnly(t, in, storetest.EventBody("et-good-2", "ACCOUNT_CONNECTED", qt0, map[string]any{"userId": "u-good2", "accountId": "a-good2"}))
		storetest.Sync(t, s)

		parked, total, err := s.ParkedEvents(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, p := range parked {
			got[p.EventID] = p.Error
		}
		if total != 2 || !strings.Contains(got["et-poison"], "refused") || got["et-garbled"] == "" {
			t.Errorf("got %d parked %v, want et-poison (refused) and et-garbled", total, got)
		}
		var accounts []string
		if err := s.DB().Model(&models.Account{}).Order("id").Pluck("id", &accounts).Error; err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(accounts) != "[a-good a-good2]" {
			t.Errorf("got accounts %v, want the two good ones projected", accounts)
		}
		lag, err := s.ProjectorLag(ctx)
		if err != nil || lag.Events != 0 || lag.Parked != 2 {
			t.Errorf("got lag %+v, %v; want nothing behind and 2 parked", lag, err)
		}
		if p, err := s.ParkedEvent(ctx, parked[0].Seq); err != nil || p.EventID != parked[0].EventID {
			t.Errorf("ParkedEvent(%d) = %+v, %v", parked[0].Seq, p, err)
		}

		// A rebuild retries them: the garbled one still fails; once the
		// database accepts the other, it is projected.
		allowAccounts(t, s)
		if _, err := ingest.New(s).Reproject(ctx); err != nil {
			t.Fatal(err)
		}
		parked, total, err = s.ParkedEvents(ctx, 10)
		if err != nil || total != 1 || parked[0].EventID != "et-garbled" {
			t.Errorf("after a rebuild got %d parked %+v, %v; want only et-garbled", total, parked, err)
		}
		var n int64
		if err := s.DB().Model(&models.Account{}).Where("id = ?", "a-poison").Count(&n).Error; err != nil || n != 1 {
			t.Errorf("a-poison projected %d times after the rebuild (%v), want 1", n, err)
		}
	})
}

// TestProjector_LagShownWhileHeld: events acknowledged while the projections
// are held (a rebuild, another replica) count as lag until projected.
func TestProjector_LagShownWhileHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if lag, err := s.ProjectorLag(ctx); err != nil || lag != (models.ProjectorLag{}) {
			t.Fatalf("empty store: lag %+v, %v", lag, err)
		}
		// Stop the writer's projector: the log grows, the projections do not.
		in := storetest.Writer(t, s)
		if err := in.Projector().Close(ctx); err != nil {
			t.Fatal(err)
		}
		before := time.Now().UTC()
		for i := range 5 {
			submitOnly(t, in, storetest.EventBody(fmt.Sprintf("et-lag-%d", i), "USER_CREATED", qt0, map[string]any{"userId": fmt.Sprintf("u-lag-%d", i)}))
		}
		lag, err := s.ProjectorLag(ctx)
		if err != nil || lag.Events != 5 || lag.Oldest.Before(before.Add(-time.Second)) || lag.Behind(time.Now()) <= 0 {
			t.Errorf("got lag %+v, %v; want 5 events behind since about %v", lag, err, before)
		}
		var users int64
		if err := s.DB().Model(&models.SmileUser{}).Where("event_count > 0").Count(&users).Error; err != nil || users != 0 {
			t.Errorf("%d users projected while the projector was stopped (%v)", users, err)
		}
		storetest.Sync(t, s) // projects itself, no projector running
		if lag, err := s.ProjectorLag(ctx); err != nil || lag.Events != 0 {
			t.Errorf("after sync: lag %+v, %v", lag, err)
		}
		if err := s.DB().Model(&models.SmileUser{}).Where("event_count = 1").Count(&users).Error; err != nil || users != 5 {
			t.Errorf("got %d users projected once (%v), want 5", users, err)
		}
	})
}

// While webhooks are being appended the projector defers to them: it waits
// Yield before each batch (here longer than the test), and still stops at
// once when asked.
func TestProjector_DefersToWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := newWriterWith(t, s, ingest.WriterOptions{Projector: ingest.ProjectorOptions{
			Busy: func() bool { return true }, Yield: time.Hour, Gather: time.Millisecond, Poll: 5 * time.Millisecond}})
		for i := range 5 {
			submitOnly(t, in, storetest.EventBody(fmt.Sprintf("et-busy-%d", i), "USER_CREATED", qt0, map[string]any{"userId": fmt.Sprintf("u-busy-%d", i)}))
		}
		time.Sleep(300 * time.Millisecond)
		if n := in.Projector().Projected(); n != 0 {
			t.Errorf("projected %d events while webhooks were busy, want 0 until Yield passes", n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := in.Projector().Close(ctx); err != nil {
			t.Fatalf("the projector did not stop while yielding: %v", err)
		}
		if lag, err := s.ProjectorLag(context.Background()); err != nil || lag.Events != 5 {
			t.Errorf("got lag %+v (%v), want the 5 events left to project", lag, err)
		}
	})
}

// TestProjector_DefersToASaturatedWriter: while the appends keep the writer
// saturated the projector leaves it to them, for at most MaxDefer; then it
// projects alongside them. A writer that keeps up gets no such deferral.
func TestProjector_DefersToASaturatedWriter(t *testing.T) {
	s := storetest.SQLite(t)
	var saturated atomic.Bool
	saturated.Store(true)
	const maxDefer = 400 * time.Millisecond
	in := newWriterWith(t, s, ingest.WriterOptions{Projector: ingest.ProjectorOptions{
		Busy: func() bool { return true }, Saturated: saturated.Load, MaxDefer: maxDefer,
		Yield: 5 * time.Millisecond, Gather: time.Millisecond, Poll: 5 * time.Millisecond}})
	start := time.Now()
	for i := range 3 {
		submitOnly(t, in, storetest.EventBody(fmt.Sprintf("et-sat-%d", i), "USER_CREATED", qt0, map[string]any{"userId": fmt.Sprintf("u-sat-%d", i)}))
	}
	waitProjected(t, in, 3)
	if took := time.Since(start); took < maxDefer {
		t.Errorf("projected after %v while the writer was saturated, want at least MaxDefer (%v)", took, maxDefer)
	}

	saturated.Store(false)
	time.Sleep(200 * time.Millisecond) // the projector sees the writer keeping up
	saturated.Store(true)
	start = time.Now()
	submitOnly(t, in, storetest.EventBody("et-sat-late", "USER_CREATED", qt0, map[string]any{"userId": "u-sat-late"}))
	waitProjected(t, in, 4)
	if took := time.Since(start); took < maxDefer {
		t.Errorf("a new saturation was deferred to for %v only, want MaxDefer (%v) again", took, maxDefer)
	}

	saturated.Store(false)
	start = time.Now()
	submitOnly(t, in, storetest.EventBody("et-sat-free", "USER_CREATED", qt0, map[string]any{"userId": "u-sat-free"}))
	waitProjected(t, in, 5)
	if took := time.Since(start); took >= maxDefer {
		t.Errorf("a writer keeping up waited %v for its projections, want less than MaxDefer (%v)", took, maxDefer)
	}
}

// waitProjected waits up to 10 s for the writer's projector to have projected n events.
func waitProjected(t *testing.T, in *ingest.Writer, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for in.Projector().Projected() < n {
		if time.Now().After(deadline) {
			t.Fatalf("projected %d events, want %d", in.Projector().Projected(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestProjector_ReplicasProjectEachEventOnce runs two stores on one
// PostgreSQL schema, as two replicas, each appending half of a realistic
// history (users in random order, with duplicates sent to both) while both
// projectors run. Sequence numbers commit out of order across replicas; the
// projections must still equal a rebuild from the log, and every event must
// be counted exactly once.
func TestProjector_ReplicasProjectEachEventOnce(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	var replicas [2]*models.Store
	var ingesters [2]*ingest.Writer
	for i := range replicas {
		s, err := models.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		replicas[i] = s
		ingesters[i] = newWriterWith(t, s, ingest.WriterOptions{Projector: ingest.ProjectorOptions{MaxBatch: 64, Poll: 5 * time.Millisecond}})
	}
	if replicas[0].Dialect() != migrations.Postgres {
		t.Fatal("want PostgreSQL")
	}
	bodies := storetest.SyntheticHistory(60)
	rand.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(bodies); i += 8 {
				targets := []int{i % 2}
				if i%5 == 0 {
					targets = []int{0, 1} // a retry landing on the other replica
				}
				for _, r := range targets {
					if _, err := ingesters[r].Submit(ctx, storetest.Incoming(t, bodies[i])); err != nil {
						t.Errorf("replica %d: %v", r, err)
					}
				}
			}
		})
	}
	wg.Wait()
	storetest.Sync(t, replicas[1])
	incremental := storetest.DumpProjections(t, replicas[0])
	var counted, stored int64
	if err := replicas[0].DB().Raw("SELECT COALESCE(SUM(stored), 0) FROM event_counts").Scan(&counted).Error; err != nil {
		t.Fatal(err)
	}
	if err := replicas[0].DB().Model(&models.Event{}).Count(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if counted != stored || stored != int64(len(bodies)) {
		t.Errorf("event_counts sums to %d, the log holds %d, %d were sent: each event must be projected once", counted, stored, len(bodies))
	}
	if _, err := ingest.New(replicas[0]).Reproject(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := storetest.DumpProjections(t, replicas[0]); rebuilt != incremental {
		t.Errorf("projections from two replicas differ from a rebuild:\n--- projected\n%s\n--- rebuilt\n%s", incremental, rebuilt)
	}
}

// submitOnly submits without waiting for the projections.
func submitOnly(t *testing.T, in *ingest.Writer, body []byte) {
	t.Helper()
	if _, err := in.Submit(context.Background(), storetest.Incoming(t, body)); err != nil {
		t.Fatalf("submit: %v", err)
	}
}

// refuseAccount makes the database refuse to store the account id, as a
// constraint added by hand or a corrupt index would.
func refuseAccount(t *testing.T, s *models.Store, id string) {
	t.Helper()
	stmts := []string{"CREATE TRIGGER refuse_account BEFORE INSERT ON accounts WHEN NEW.id = '" + id + "' " +
		"BEGIN SELECT RAISE(ABORT, 'account refused'); END"}
	if s.Dialect() == migrations.Postgres {
		stmts = []string{
			"CREATE FUNCTION refuse_account() RETURNS trigger AS $$ BEGIN IF NEW.id = '" + id + "' THEN " +
				"RAISE EXCEPTION 'account refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
			"CREATE TRIGGER refuse_account BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION refuse_account()",
		}
	}
	for _, q := range stmts {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func allowAccounts(t *testing.T, s *models.Store) {
	t.Helper()
	q := "DROP TRIGGER refuse_account"
	if s.Dialect() == migrations.Postgres {
		q += " ON accounts"
	}
	if err := s.DB().Exec(q).Error; err != nil {
		t.Fatal(err)
	}
}

// TestProjector_CacheDroppedWhenAnotherProcessWrites: a server's projector
// caches the rows it wrote. An erasure from another process (the CLI) used to
// leave that cache holding the erased account, so the user's next event
// brought the erased history back (first seen, event count). projector_state
// names who wrote the projections last, and a projector trusts its cache only
// while that is still itself.
func TestProjector_CacheDroppedWhenAnotherProcessWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, server *models.Store) {
		ctx := context.Background()
		cli := storetest.Replica(t, server)
		in := storetest.Writer(t, server)
		early, late := qt0, qt0.Add(48*time.Hour)
		storetest.Submit(t, in, storetest.EventBody("et-before", "ACCOUNT_CONNECTED", early, map[string]any{"userId": "u-erased", "accountId": "a-erased"}))
		if _, err := ingest.New(cli).EraseUser(ctx, ingest.EraseRequest{SmileUserID: "u-erased", Actor: "cli"}); err != nil {
			t.Fatal(err)
		}
		storetest.Submit(t, in, storetest.EventBody("et-after", "ACCOUNT_CONNECTED", late, map[string]any{"userId": "u-erased", "accountId": "a-erased"}))
		var acc models.Account
		if err := server.DB().Where("id = ?", "a-erased").Take(&acc).Error; err != nil {
			parked, _, _ := server.ParkedEvents(ctx, 5)
			t.Fatalf("%v; parked %+v; %s", err, parked, storetest.Dump(t, server, "SELECT seq, event_id, user_key FROM events", "SELECT * FROM projector_state", "SELECT user_key, id FROM smile_users"))
		}
		if acc.EventCount != 1 || !acc.FirstSeenAt.Equal(late) {
			t.Errorf("after erasure from another process: account has %d events, first seen %v; want 1 and %v (nothing from before the erasure)",
				acc.EventCount, acc.FirstSeenAt, late)
		}
	})
}

// While webhooks are being appended on SQLite, a projector batch holds the
// writer they wait for, so it is sized to take BatchTime; catching up alone,
// to take IdleBatchTime, which projects far more per commit.
func TestProjector_BatchesGrowWhenAppendsAreIdle(t *testing.T) {
	s := storetest.SQLite(t)
	var busy atomic.Bool
	p := ingest.UnstartedProjector(ingest.New(s), ingest.ProjectorOptions{MaxBatch: 4096, BatchTime: 25 * time.Millisecond,
		IdleBatchTime: 250 * time.Millisecond, Busy: busy.Load})

	busy.Store(true)
	if got := p.NextBatchAfter(100, 50*time.Millisecond); got != 64 {
		t.Errorf("busy: after 100 events in 50 ms the next batch is %d, want 64 (halved, at least 64)", got)
	}
	if got := p.NextBatchAfter(100, 25*time.Millisecond); got != 100 {
		t.Errorf("busy: after 100 events in 25 ms the next batch is %d, want 100", got)
	}
	busy.Store(false)
	if got := p.NextBatchAfter(100, 25*time.Millisecond); got != 200 {
		t.Errorf("idle: after 100 events in 25 ms the next batch is %d, want 200 (doubled)", got)
	}
	if got := p.NextBatchAfter(1000, 125*time.Millisecond); got != 2000 {
		t.Errorf("idle: after 1000 events in 125 ms the next batch is %d, want 2000", got)
	}
}
