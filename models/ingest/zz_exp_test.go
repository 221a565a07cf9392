package ingest_test

import (
	"os"
	"strings"
	"testing"

	"smiledash/models/storetest"
)

func BenchmarkExpAck(b *testing.B) {
	s := storetest.SQLite(b)
	for _, stmt := range strings.Split(os.Getenv("EXP_SQL"), ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if err := s.Writer().Exec(stmt).Error; err != nil {
			b.Fatal(err)
		}
	}
	queues := randomUserQueues(b, b.N)
	var batches batchCounter
	in := benchWriter(b, s, false, &batches)
	b.ResetTimer()
	total, elapsed := submitQueues(b, in, queues)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	batches.report(b)
}
