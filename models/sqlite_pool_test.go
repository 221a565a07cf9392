package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"smiledash/models/storetest"
)

// A pool transaction counts as a write until it ends: the writer
// connection's users wait for it between their transactions.
func TestSQLite_WriterYieldsToPoolTransactions(t *testing.T) {
	s := storetest.SQLite(t)
	tx := s.DB().Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	yielded := make(chan struct{})
	go func() {
		s.YieldToPoolWrites(context.Background())
		close(yielded)
	}()
	select {
	case <-yielded:
		t.Fatal("the writer went ahead while a pool transaction held the lock")
	case <-time.After(100 * time.Millisecond):
	}
	if err := tx.Exec("INSERT INTO settings (name, value) VALUES ('k', 'v')").Commit().Error; err != nil {
		t.Fatal(err)
	}
	select {
	case <-yielded:
	case <-time.After(5 * time.Second):
		t.Fatal("the writer still waits after the pool transaction committed")
	}
}

// A writer connection running transactions back to back, as the projector
// or the search indexer catching up does, must not starve the pool's writes
// until SQLite's busy timeout says "database is locked".
func TestSQLite_PoolWritesGetInBetweenBackToBackWriterTransactions(t *testing.T) {
	s := storetest.SQLite(t)
	if err := s.Writer().Exec("CREATE TABLE busy (n INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			s.YieldToPoolWrites(ctx)
			tx := s.Writer().Begin()
			tx.Exec("INSERT INTO busy VALUES (1)")
			time.Sleep(20 * time.Millisecond) // a batch's work, lock held
			tx.Commit()
		}
	})
	defer func() { stop(); wg.Wait() }()
	time.Sleep(50 * time.Millisecond)
	for i := range 5 {
		if err := s.DB().Exec("INSERT INTO settings (name, value) VALUES (?, 'v')", i).Error; err != nil {
			t.Fatalf("pool write %d: %v", i, err)
		}
	}
}
