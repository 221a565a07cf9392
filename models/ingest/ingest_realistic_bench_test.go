package ingest_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile/simulate"
)

// benchWorkers is the number of concurrent submitters, as the ingest
// benchmark's 64 connections would be 64 webhook handlers.
const benchWorkers = 64

// BenchmarkIngestRealistic feeds the writer the simulator's account histories:
// 64 workers, each sending one user's events in order, as Smile's webhooks for
// 64 users in flight would arrive. It isolates the writer from HTTP.
//
//	go test ./models/ingest -run "^$" -bench IngestRealistic -benchtime 60000x  (PostgreSQL too with SMILEDASH_TEST_POSTGRES_URL)
func BenchmarkIngestRealistic(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIngestRealistic(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchIngestRealistic(b, storetest.Postgres(b)) })
}

func benchIngestRealistic(b *testing.B, s *models.Store) {
	var batches, batched atomic.Int64
	in, err := ingest.New(s).NewWriter(ingest.WriterOptions{OnBatch: func(r ingest.BatchReport) {
		batches.Add(1)
		batched.Add(int64(r.Size))
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(context.Background())
	queues := make([][]*ingest.Incoming, benchWorkers)
	gen := simulate.NewGenerator(1, "benchtenant", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	for n, w := 0, 0; n < b.N; w = (w + 1) % benchWorkers {
		for _, ev := range gen.User() {
			queues[w] = append(queues[w], storetest.Incoming(b, ev.Body))
			n++
		}
	}
	b.ResetTimer()
	total, elapsed := submitQueues(b, in, queues)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(batched.Load())/float64(max(batches.Load(), 1)), "events/batch")
}

// BenchmarkIngestRandomUsers is the workload of scripts/bench-ingest.sh
// without HTTP: one new INCOMES_ADDED, EMPLOYMENTS_ADDED, ACCOUNT_CONNECTED or
// TASK_FINISHED event at a time for a user picked at random among 100,000
// (simulate --random), from 64 submitters, on a new store. It measures the
// two halves of ingest apart and together. ack is the acknowledgement path
// alone (the writer's projector stopped): what webhooks could be answered at
// if projecting cost nothing. served is the writer with its projector running
// behind, as in a server: events/s is the acknowledged rate, projected/s what
// the projector kept up with during the run, catchup-s how long it then took
// to reach the end. project is the projector alone over a log of b.N
// unprojected events (appended first, untimed), in its own batches.
//
//	go test ./models/ingest -run '^$' -bench IngestRandomUsers -benchtime 100000x  (PostgreSQL too with SMILEDASH_TEST_POSTGRES_URL)
func BenchmarkIngestRandomUsers(b *testing.B) {
	stores := []struct {
		name string
		open func(testing.TB) *models.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}}
	for _, st := range stores {
		b.Run(st.name+"/ack", func(b *testing.B) {
			s := st.open(b)
			queues := randomUserQueues(b, b.N)
			var batches batchCounter
			in := benchWriter(b, s, false, &batches)
			b.ResetTimer()
			total, elapsed := submitQueues(b, in, queues)
			b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
			batches.report(b)
		})
		b.Run(st.name+"/served", func(b *testing.B) {
			s := st.open(b)
			queues := randomUserQueues(b, b.N)
			var batches batchCounter
			in := benchWriter(b, s, true, &batches)
			b.ResetTimer()
			total, elapsed := submitQueues(b, in, queues)
			projected := in.Projector().Projected()
			start := time.Now()
			if err := ingest.New(s).SyncProjections(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(projected)/elapsed.Seconds(), "projected/s")
			b.ReportMetric(time.Since(start).Seconds(), "catchup-s")
			batches.report(b)
		})
		b.Run(st.name+"/project", func(b *testing.B) {
			s := st.open(b)
			in := benchWriter(b, s, false, nil)
			total, _ := submitQueues(b, in, randomUserQueues(b, b.N))
			b.ResetTimer()
			start := time.Now()
			var batches batchCounter
			p := ingest.New(s).StartProjector(ingest.ProjectorOptions{OnBatch: batches.projector})
			defer p.Close(context.Background())
			for p.Projected()+p.Parked() < int64(total) {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			if p.Parked() > 0 {
				b.Errorf("%d events parked", p.Parked())
			}
			b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
			batches.report(b)
		})
	}
}

// batchCounter averages the writer's and the projector's transaction sizes:
// on SQLite they share one connection, and each commit is an fsync.
type batchCounter struct {
	acks, acked, projections, projected atomic.Int64
}

func (c *batchCounter) ingest(r ingest.BatchReport) {
	c.acks.Add(1)
	c.acked.Add(int64(r.Size))
}

func (c *batchCounter) projector(r ingest.ProjectorReport) {
	if r.Projected+r.Parked == 0 {
		return // a failed or cancelled batch (e.g. the projector stopping)
	}
	c.projections.Add(1)
	c.projected.Add(int64(r.Projected + r.Parked))
}

func (c *batchCounter) report(b *testing.B) {
	if n := c.acks.Load(); n > 0 {
		b.ReportMetric(float64(c.acked.Load())/float64(n), "events/ack-tx")
	}
	if n := c.projections.Load(); n > 0 {
		b.ReportMetric(float64(c.projected.Load())/float64(n), "events/proj-tx")
	}
}

// benchWriter starts a writer on s, counting its transactions in batches
// (when not nil); without project, its projector is stopped at once, so the
// log grows and the projections do not.
func benchWriter(b *testing.B, s *models.Store, project bool, batches *batchCounter) *ingest.Writer {
	b.Helper()
	var opts ingest.WriterOptions
	if batches != nil {
		opts.OnBatch, opts.Projector.OnBatch = batches.ingest, batches.projector
	}
	in, err := ingest.New(s).NewWriter(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = in.Close(context.Background()) })
	if !project {
		if err := in.Projector().Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return in
}

// randomUserQueues makes n events of the random-users load, dealt to the
// submitters in turn, dated a second apart as the load mode dates them now.
func randomUserQueues(b *testing.B, n int) [][]*ingest.Incoming {
	b.Helper()
	const users = 100_000
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	gen := simulate.NewGenerator(1, "benchtenant", start)
	pick := rand.New(rand.NewPCG(1, 2))
	queues := make([][]*ingest.Incoming, benchWorkers)
	for i := range n {
		ev := gen.LoadEvent(pick.Uint64N(users), start.Add(time.Duration(i)*time.Second))
		queues[i%benchWorkers] = append(queues[i%benchWorkers], storetest.Incoming(b, ev.Body))
	}
	return queues
}

// submitQueues submits each queue from its own goroutine, in order, and
// returns how many events were acknowledged and how long it took.
func submitQueues(b *testing.B, in *ingest.Writer, queues [][]*ingest.Incoming) (int, time.Duration) {
	b.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	for _, q := range queues {
		wg.Go(func() {
			for _, inc := range q {
				if _, err := in.Submit(context.Background(), inc); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, q := range queues {
		total += len(q)
	}
	return total, time.Since(start)
}
