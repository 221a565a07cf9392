package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"smiledash/models/storetest"
)

// BenchmarkAppendGORMOverhead isolates what GORM costs the writer: the same
// transaction as a group commit's append (BEGIN, one multi-row INSERT … ON
// CONFLICT DO NOTHING RETURNING of 32 new events, COMMIT) through a GORM
// transaction, as the writer runs it, and through database/sql on the same
// connection. The difference per op is GORM's overhead per batch. The
// benchmark turns SQLite's fsync off on its own store, so that overhead is not
// lost in the disk's noise (with fsync both paths take ~1.1–2 ms a batch here).
//
//	go test ./models/ingest -run '^$' -bench AppendGORMOverhead -benchtime 3000x
func BenchmarkAppendGORMOverhead(b *testing.B) {
	const rows = 32
	s := storetest.SQLite(b)
	writer := s.Writer()
	sqlDB, err := writer.DB()
	if err != nil {
		b.Fatal(err)
	}
	cols := "event_id, type, created_at, received_at, user_key, account_id, source_ip, secret_index, flags, body"
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", 10), ", ") + ")"
	query := "INSERT INTO events (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ") +
		" ON CONFLICT (event_id) DO NOTHING RETURNING seq, event_id"
	body := []byte(strings.Repeat("x", 400))
	n := 0
	args := func() []any {
		out := make([]any, 0, 10*rows)
		now := time.Now().UTC()
		for range rows {
			n++
			out = append(out, fmt.Sprintf("et-bench-%09d", n), "INCOMES_ADDED", now, now, nil, "acc", "127.0.0.1", 0, "", body)
		}
		return out
	}
	ctx := context.Background()
	if err := writer.Exec("PRAGMA synchronous = OFF").Error; err != nil { // one connection: it sticks
		b.Fatal(err)
	}
	b.Run("gorm", func(b *testing.B) {
		for b.Loop() {
			err := writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				r, err := tx.Raw(query, args()...).Rows()
				if err != nil {
					return err
				}
				defer r.Close()
				for r.Next() {
					var seq int64
					var id string
					if err := r.Scan(&seq, &id); err != nil {
						return err
					}
				}
				return r.Err()
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("database-sql", func(b *testing.B) {
		for b.Loop() {
			tx, err := sqlDB.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			r, err := tx.QueryContext(ctx, query, args()...)
			if err != nil {
				b.Fatal(err)
			}
			for r.Next() {
				var seq int64
				var id string
				if err := r.Scan(&seq, &id); err != nil {
					b.Fatal(err)
				}
			}
			if err := r.Err(); err != nil {
				b.Fatal(err)
			}
			r.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
