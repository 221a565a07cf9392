package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
)

// projectionQueries read every projection in a stable order; smile_users'
// projected columns are reset and recomputed by a rebuild, so the table is
// compared whole.
var projectionQueries = []string{
	"SELECT * FROM smile_users ORDER BY user_key",
	"SELECT * FROM accounts ORDER BY id",
	"SELECT * FROM archives ORDER BY id",
	"SELECT * FROM invites ORDER BY id",
	"SELECT * FROM tasks ORDER BY source_id, task_type",
	"SELECT * FROM data_availability ORDER BY account_id, datapoint",
	"SELECT * FROM records ORDER BY id",
	"SELECT * FROM verifications ORDER BY id",
	"SELECT * FROM event_counts ORDER BY type",
}

// Projections renders every projection table as text, one row a line, so two
// stores (or one store before and after a rebuild) can be compared with ==.
func Projections(t testing.TB, s *models.Store) string {
	t.Helper()
	Sync(t, s)
	return Dump(t, s, projectionQueries...)
}

// Sync waits until the projector has projected every stored event: the
// projections follow the acknowledgement, so a test reading them after
// ingesting waits for them first.
func Sync(t testing.TB, s *models.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ingest.New(s).SyncProjections(ctx); err != nil {
		t.Fatalf("sync projections: %v", err)
	}
}

// ProjectionQueries returns the queries Projections runs, for callers that
// compare more tables than these.
func ProjectionQueries() []string { return append([]string(nil), projectionQueries...) }

// Dump renders the rows of each query as text, one row a line.
func Dump(t testing.TB, s *models.Store, queries ...string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range queries {
		rows, err := s.DB().Raw(q).Rows()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		fmt.Fprintf(&b, "%s\n", q)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				switch x := v.(type) {
				case time.Time:
					v = x.UTC().Format(time.RFC3339Nano)
				case []byte:
					v = string(x)
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			b.WriteString("\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows.Close()
	}
	return b.String()
}
