package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/migrations"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile"
)

func newWriterWith(t *testing.T, s *models.Store, opts ingest.WriterOptions) *ingest.Writer {
	t.Helper()
	in, err := ingest.New(s).NewWriter(opts)
	if err != nil {
		t.Fatalf("new ingester: %v", err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	return in
}

// TestIngest_NULInTextFieldsStoredAndProjected: PostgreSQL text cannot hold
// NUL, so a signed event with \u0000 in its fields used to fail every retry.
func TestIngest_NULInTextFieldsStoredAndProjected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		eventLog := ingest.New(s)
		in := storetest.Writer(t, s)
		body := []byte(`{"id":"et-nul-\u0000","version":1,"type":"ACCOUNT_CONNECTED","createdAt":"2026-05-01T00:00:00Z",` +
			`"data":{"userId":"u-nul\u0000","accountId":"a-nul\u0000","loginName":"jd\u0000x","providers":["p\\u0000q"]}}`)
		inc := storetest.Incoming(t, body)
		if got, err := in.Submit(context.Background(), inc); err != nil || got != ingest.Stored {
			t.Fatalf("got %v, %v, want Stored", got, err)
		}
		storetest.Sync(t, s)
		if *inc.Envelope.Data.LoginName != "jd\x00x" {
			t.Errorf("the caller's envelope was changed: login %q", *inc.Envelope.Data.LoginName)
		}
		var ev models.Event
		if err := s.DB().Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if string(ev.Body) != string(body) || ev.EventID != "et-nul-\uFFFD" || ev.AccountID != "a-nul\uFFFD" {
			t.Errorf("got event %q account %q body %s, want the exact body and U+FFFD for NUL", ev.EventID, ev.AccountID, ev.Body)
		}
		var acc models.Account
		if err := s.DB().Take(&acc).Error; err != nil {
			t.Fatal(err)
		}
		if acc.ID != "a-nul\uFFFD" || acc.LoginName != "jd\uFFFDx" || acc.ProviderID != `p\u0000q` {
			t.Errorf("got account %q login %q provider %q, want U+FFFD for NUL and the escaped backslash kept as text",
				acc.ID, acc.LoginName, acc.ProviderID)
		}
		// A retry is a duplicate, and a rebuild decodes the body the same way.
		if got := storetest.Submit(t, in, body); got != ingest.Duplicate {
			t.Errorf("retry: got %v, want Duplicate", got)
		}
		// An id at the length limit stays within it however its NULs are stored.
		longID := []byte(`{"id":"` + strings.Repeat(`\u0000`, smile.MaxEventIDLength) +
			`","type":"USER_CREATED","createdAt":"2026-05-01T00:00:00Z","data":{"userId":"u-nul\u0000"}}`)
		if got := storetest.Submit(t, in, longID); got != ingest.Stored {
			t.Errorf("long id: got %v, want Stored", got)
		}
		before := storetest.DumpProjections(t, s)
		if _, err := eventLog.Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		if after := storetest.DumpProjections(t, s); after != before {
			t.Errorf("rebuild differs from incremental:\n%s\n---\n%s", before, after)
		}
	})
}

func TestIngest_RejectionTextMadeStorable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		r := ingest.Rejection{ReceivedAt: time.Now(), SourceIP: "10.0.0.1", Reason: models.ReasonBadEnvelope, Status: 400,
			EventID: "e\x00", EventType: "T\x00", BodyBytes: 5, Excerpt: "a\x00b\xff"}
		if !in.Reject(r) {
			t.Fatal("rejection not queued")
		}
		if err := in.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var d models.Delivery
		if err := s.DB().Take(&d).Error; err != nil {
			t.Fatalf("rejection not stored: %v", err)
		}
		if d.Excerpt != "a\uFFFDb\uFFFD" || d.EventID != "e\uFFFD" || d.EventType != "T\uFFFD" {
			t.Errorf("got excerpt %q id %q type %q, want NUL and invalid UTF-8 as U+FFFD", d.Excerpt, d.EventID, d.EventType)
		}
	})
}

// refuseDeliveries makes the database itself refuse delivery records whose
// reason is "poison", as a record it cannot store would.
func refuseDeliveries(t *testing.T, s *models.Store) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER refuse_poison BEFORE INSERT ON deliveries WHEN NEW.reason = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned record'); END`}
	if s.Dialect() == migrations.Postgres {
		stmts = []string{
			`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.reason = 'poison' THEN RAISE EXCEPTION 'poisoned record'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse_poison BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
		}
	}
	for _, q := range stmts {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestIngest_EventsSurviveRejectionFlood: rejection records that cannot be
// stored used to fail the batch they shared with events (a batch of one event
// was not even retried), so valid webhooks answered 503.
func TestIngest_EventsSurviveRejectionFlood(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rejection ingest.Rejection
		wantLost  bool
	}{
		{"nul body excerpt", ingest.Rejection{Reason: models.ReasonBadSignature, Status: 401, Excerpt: "{\x00\x00\x00"}, false},
		{"record the database refuses", ingest.Rejection{Reason: "poison", Status: 401}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *models.Store) {
				refuseDeliveries(t, s)
				var lost atomic.Int64
				in := newWriterWith(t, s, ingest.WriterOptions{OnBatch: func(r ingest.BatchReport) { lost.Add(int64(r.RejectionsLost)) }})
				bodies := storetest.SyntheticHistory(6)
				var wg sync.WaitGroup
				for w := range 4 {
					wg.Go(func() {
						for i := w; i < len(bodies); i += 4 {
							// Each event races a handful of rejections into the writer.
							for range 8 {
								r := tc.rejection
								r.ReceivedAt, r.SourceIP = time.Now(), "203.0.113.9"
								in.Reject(r)
							}
							res, err := in.Submit(context.Background(), storetest.Incoming(t, bodies[i]))
							if err != nil || res != ingest.Stored {
								t.Errorf("event %d: got %v, %v, want Stored", i, res, err)
							}
						}
					})
				}
				wg.Wait()
				if err := in.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				n := storetest.Count(t, s.DB().Model(&models.Event{}))
				if n != int64(len(bodies)) {
					t.Errorf("got %d events stored, want %d", n, len(bodies))
				}
				recorded := storetest.Count(t, s.DB().Model(&models.Delivery{}))
				if tc.wantLost && (lost.Load() == 0 || recorded != 0) {
					t.Errorf("got %d lost and %d recorded, want the refused records counted as lost", lost.Load(), recorded)
				}
				if !tc.wantLost && (lost.Load() != 0 || recorded == 0) {
					t.Errorf("got %d lost and %d recorded, want every record stored", lost.Load(), recorded)
				}
			})
		})
	}
}

// holdWriter blocks the writer goroutine inside OnBatch after its first batch,
// so a test can queue work that the next batch then takes at once.
type holdWriter struct {
	calls   atomic.Int32
	release chan struct{}
	mu      sync.Mutex
	reports []ingest.BatchReport
}

func (h *holdWriter) onBatch(r ingest.BatchReport) {
	if h.calls.Add(1) == 1 {
		<-h.release
	}
	h.mu.Lock()
	h.reports = append(h.reports, r)
	h.mu.Unlock()
}

func newHeldWriter(t *testing.T, s *models.Store) (*ingest.Writer, *holdWriter) {
	t.Helper()
	h := &holdWriter{release: make(chan struct{})}
	in := newWriterWith(t, s, ingest.WriterOptions{OnBatch: h.onBatch})
	// The first batch commits, then the writer waits in OnBatch.
	storetest.Submit(t, in, storetest.SyntheticHistory(1)[0])
	return in, h
}

func rejection(i int) ingest.Rejection {
	return ingest.Rejection{ReceivedAt: time.Now(), SourceIP: "203.0.113.9", Reason: models.ReasonBadSignature, Status: 401,
		Excerpt: fmt.Sprint("forged ", i)}
}

// TestIngest_RejectionOnlyTrafficBatched: rejections used to commit one
// transaction (one fsync) each.
func TestIngest_RejectionOnlyTrafficBatched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in, h := newHeldWriter(t, s)
		const n = 100
		for i := range n {
			if !in.Reject(rejection(i)) {
				t.Fatalf("rejection %d not queued", i)
			}
		}
		close(h.release)
		// Wait for the writer itself to record them (Close would flush them in
		// one go regardless).
		var commits, recorded int
		for recorded < n {
			runtime.Gosched()
			h.mu.Lock()
			commits, recorded = 0, 0
			for _, r := range h.reports {
				if r.Size == 0 {
					commits++
					recorded += r.Rejections - r.RejectionsLost
				}
			}
			h.mu.Unlock()
		}
		if commits != 1 || recorded != n {
			t.Errorf("got %d rejection-only commits recording %d, want 1 recording %d", commits, recorded, n)
		}
	})
}

// refuseEvent makes the database refuse the event with the given id.
func refuseEvent(t *testing.T, s *models.Store, id string) {
	t.Helper()
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER refuse_event BEFORE INSERT ON events WHEN NEW.event_id = '%s'
		BEGIN SELECT RAISE(ABORT, 'refused event'); END`, id)}
	if s.Dialect() == migrations.Postgres {
		stmts = []string{
			fmt.Sprintf(`CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.event_id = '%s' THEN RAISE EXCEPTION 'refused event'; END IF; RETURN NEW; END $$`, id),
			`CREATE TRIGGER refuse_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_event()`,
		}
	}
	for _, q := range stmts {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestIngest_RejectionsKeptWhenBatchRetried: when a batch failed and its events
// were retried one by one, its rejection records used to be dropped uncounted.
func TestIngest_RejectionsKeptWhenBatchRetried(t *testing.T) {
	refused := []byte(`{"id":"et-refused","version":1,"type":"USER_CREATED","createdAt":"2026-05-01T00:00:00Z","data":{"userId":"u-r"}}`)
	good := storetest.SyntheticHistory(2)[9] // user 1's USER_CREATED
	for _, tc := range []struct {
		name   string
		bodies [][]byte
	}{
		{"refused event among others", [][]byte{refused, good}},
		{"refused event alone", [][]byte{refused}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *models.Store) {
				refuseEvent(t, s, "et-refused")
				in, h := newHeldWriter(t, s)
				results := make(chan error, len(tc.bodies))
				for _, body := range tc.bodies {
					go func() {
						_, err := in.Submit(context.Background(), storetest.Incoming(t, body))
						results <- err
					}()
				}
				for in.QueueDepth() < len(tc.bodies) {
					runtime.Gosched()
				}
				for i := range 3 {
					if !in.Reject(rejection(i)) {
						t.Fatalf("rejection %d not queued", i)
					}
				}
				close(h.release)
				var failed int
				for range tc.bodies {
					if err := <-results; err != nil {
						failed++
					}
				}
				if failed != 1 {
					t.Errorf("got %d failed submissions, want only the refused one", failed)
				}
				if err := in.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				recorded := storetest.Count(t, s.DB().Model(&models.Delivery{}).Where("reason = ?", models.ReasonBadSignature))
				if recorded != 3 {
					t.Errorf("got %d rejection records, want 3 kept through the retry", recorded)
				}
			})
		})
	}
}

// waitSubmit submits body and returns its outcome, failing the test if the
// submission hangs far past the ingest timeout.
func waitSubmit(t *testing.T, in *ingest.Writer, body []byte) (ingest.Result, error) {
	t.Helper()
	type out struct {
		res ingest.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := in.Submit(context.Background(), storetest.Incoming(t, body))
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(30 * time.Second):
		t.Fatal("submission hung while the writer was held")
		return 0, nil
	}
}

// TestIngest_DeadlineWhileWriterHeld: on SQLite a rebuild holds the single
// writer connection, and submissions used to hang instead of failing (503) in
// time. On PostgreSQL appends take no lock at all: a rebuild or another
// replica holding the projection lock delays only the projections.
func TestIngest_DeadlineWhileWriterHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		eventLog := ingest.New(s)
		in := newWriterWith(t, s, ingest.WriterOptions{Timeout: time.Second})
		bodies := storetest.SyntheticHistory(1)
		storetest.Submit(t, in, bodies[0])

		t.Run("rebuild holds the writer", func(t *testing.T) {
			held, release := make(chan struct{}), make(chan struct{})
			ingest.SetRebuildHook(eventLog, func(_ context.Context, stage string) {
				if stage == ingest.BeforeRebuildCommit {
					close(held)
					<-release
				}
			})
			defer ingest.SetRebuildHook(eventLog, func(context.Context, string) {})
			rebuilt := make(chan error, 1)
			go func() { _, err := eventLog.Reproject(context.Background()); rebuilt <- err }()
			<-held
			res, err := waitSubmit(t, in, bodies[1])
			if s.Dialect() == migrations.Postgres {
				if err != nil || res != ingest.Stored {
					t.Errorf("got %v, %v while a rebuild held the projection lock, want Stored: appends take no lock", res, err)
				}
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v while a rebuild held the writer, want a deadline error", err)
			}
			close(release)
			if err := <-rebuilt; err != nil {
				t.Fatal(err)
			}
			assertStoredOnRetry(t, s, in, bodies[1])
			assertProjectedOnce(t, s, bodies[1])
		})
		if s.Dialect() != migrations.Postgres {
			return
		}
		t.Run("another replica holds the lock", func(t *testing.T) {
			ctx := context.Background()
			pool, err := s.DB().DB()
			if err != nil {
				t.Fatal(err)
			}
			conn, err := pool.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+models.ProjectionLockArgs+")"); err != nil {
				t.Fatal(err)
			}
			res, err := waitSubmit(t, in, bodies[2])
			lag, lagErr := s.ProjectorLag(ctx)
			if _, uerr := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+models.ProjectionLockArgs+")"); uerr != nil {
				t.Fatal(uerr)
			}
			if err != nil || res != ingest.Stored {
				t.Errorf("got %v, %v while another replica held the projection lock, want Stored", res, err)
			}
			if lagErr != nil || lag.Events != 1 {
				t.Errorf("got lag %+v, %v while the projections were held, want 1 event behind", lag, lagErr)
			}
			assertProjectedOnce(t, s, bodies[2])
		})
	})
}

// assertProjectedOnce waits for the projections and checks body's event
// counted once in them.
func assertProjectedOnce(t *testing.T, s *models.Store, body []byte) {
	t.Helper()
	storetest.Sync(t, s)
	env, err := smile.ParseEnvelope(body)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := s.DB().Model(&models.EventCount{}).Where("type = ?", string(env.Type)).Select("stored").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	var stored int64
	if err := s.DB().Model(&models.Event{}).Where("type = ?", string(env.Type)).Count(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if n != stored {
		t.Errorf("event_counts says %d %s, the log holds %d", n, env.Type, stored)
	}
}

func assertStoredOnRetry(t *testing.T, s *models.Store, in *ingest.Writer, body []byte) {
	t.Helper()
	// Smile retries more than once; on a loaded machine one retry may still
	// miss the short deadline these tests use.
	var res ingest.Result
	var err error
	for range 5 {
		if res, err = waitSubmit(t, in, body); err == nil {
			break
		}
	}
	if err != nil || (res != ingest.Stored && res != ingest.Duplicate) {
		t.Fatalf("retry: got %v, %v, want the event stored", res, err)
	}
	env := storetest.Incoming(t, body).Envelope
	n := storetest.Count(t, s.DB().Model(&models.Event{}).Where("event_id = ?", env.ID))
	if n != 1 {
		t.Errorf("got %d copies of %s, want 1", n, env.ID)
	}
}

// TestDeliveries_FilterWithNULMatchesNothing: on PostgreSQL a NUL in the
// reason filter (?reason=%00) used to fail the query (500).
func TestDeliveries_FilterWithNULMatchesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		for _, q := range []models.DeliveriesQuery{{Reason: "x\x00"}, {Outcome: "\x00"}, {Reason: "\xff"}} {
			page, err := s.Deliveries(context.Background(), q)
			if err != nil || len(page.Deliveries) != 0 {
				t.Errorf("%+v: got %d rows, %v, want an empty page", q, len(page.Deliveries), err)
			}
		}
	})
}
