package ingest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// BenchmarkIngest measures the writer alone (no HTTP): 64 goroutines submit
// unique account events for many users, as the webhook handlers would.
//
//	go test ./models/ingest -run '^$' -bench Ingest -benchtime 100000x
func BenchmarkIngest(b *testing.B) {
	s := storetest.SQLite(b)
	in, err := ingest.New(s).NewWriter(ingest.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(context.Background())
	var n atomic.Int64
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	types := []string{"ACCOUNT_CREATED", "ACCOUNT_CONNECTED", "TASK_STARTED", "INCOMES_ADDED", "EMPLOYMENTS_ADDED", "TASK_FINISHED"}
	b.SetParallelism(32) // 2 cores × 32 = 64 submitters
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			user := i / 6
			typ := types[i%6]
			body := fmt.Appendf(nil, `{"id":"et-b-%012d","version":1,"type":%q,"createdAt":%q,"data":{"userId":"bench-%024d","accountId":"a-%030d","sourceId":"a-%030d","sourceType":"ACCOUNT","taskType":"LINK_ACCOUNT","status":"SUCCEEDED","count":3,"providers":["sss_ph"],"datapoints":["INCOMES"]}}`,
				i, typ, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), user, user, user)
			if _, err := in.Submit(context.Background(), storetest.Incoming(b, body)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
