package handlers_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/migrations"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile/smiletest"
)

// holdWriterLock blocks appends to the log from another connection, as a
// stuck migration or maintenance job on PostgreSQL (replicas' appends take no
// lock) or another process on SQLite would, and returns its release.
func holdWriterLock(t *testing.T, s *models.Store) (release func()) {
	t.Helper()
	ctx := context.Background()
	pool, err := s.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Store connections begin IMMEDIATE: on SQLite this takes the write lock.
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Dialect() == migrations.Postgres {
		if _, err := tx.ExecContext(ctx, "LOCK TABLE events IN EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		_ = tx.Rollback()
		conn.Close()
	}
}

// TestReceiveWebhook_503WhileWriterHeld: while another replica or process held
// the writer, webhooks used to hang instead of answering 503.
func TestReceiveWebhook_503WhileWriterHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in, err := ingest.New(s).NewWriter(ingest.WriterOptions{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.Close(context.Background()) })
		a := newTestApp(t, func(d *handlers.Deps) { d.Stores, d.Ingester = storesOf(s), in })
		body := smiletest.Event("USER_CREATED")
		release := holdWriterLock(t, s)
		answered := make(chan int, 1)
		go func() { answered <- a.do(t, signed(body)).status }()
		select {
		case status := <-answered:
			if status != 503 {
				t.Errorf("got %d while the writer was held, want 503", status)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("webhook hung while the writer was held")
		}
		release()
		status := 0
		for range 10 { // Smile's retries
			if status = a.do(t, signed(body)).status; status == 200 {
				break
			}
		}
		var n int64
		if err := s.DB().Model(&models.Event{}).Count(&n).Error; err != nil {
			t.Fatalf("count rows: %v", err)
		}
		if status != 200 || n != 1 {
			t.Errorf("retry: got %d with %d events stored, want 200 and the event stored once", status, n)
		}
	})
}
