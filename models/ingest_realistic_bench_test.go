package models_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile/simulate"
)

// BenchmarkIngestRealistic feeds the writer the simulator's account histories:
// 64 workers, each sending one user's events in order, as Smile's webhooks for
// 64 users in flight would arrive. It isolates the writer from HTTP.
//
//	go test ./models -run "^$" -bench IngestRealistic -benchtime 60000x  (PostgreSQL too with SMILEDASH_TEST_POSTGRES_URL)
func BenchmarkIngestRealistic(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIngestRealistic(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchIngestRealistic(b, storetest.Postgres(b)) })
}

func benchIngestRealistic(b *testing.B, s *models.Store) {
	var batches, batched atomic.Int64
	in, err := s.NewIngester(models.IngestOptions{OnBatch: func(r models.BatchReport) {
		batches.Add(1)
		batched.Add(int64(r.Size))
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(context.Background())
	const workers = 64
	queues := make([][]*models.Incoming, workers)
	gen := simulate.NewGenerator(1, "benchtenant", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	for n, w := 0, 0; n < b.N; w = (w + 1) % workers {
		for _, ev := range gen.User() {
			queues[w] = append(queues[w], incoming(b, ev.Body))
			n++
		}
	}
	b.ResetTimer()
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
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(batched.Load())/float64(max(batches.Load(), 1)), "events/batch")
}
