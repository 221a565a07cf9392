package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// SQLite copies its write-ahead log into the database file at checkpoints.
// By default the connection whose commit takes the log past 1,000 pages runs
// one, inside that commit: on the writer connection, a batch of webhooks
// then waited for thousands of random page writes and an fsync of the
// database file, and the projector's larger commits paid for them too. Now a
// goroutine of the store checkpoints every 500 ms from a pool connection, in
// PASSIVE mode, which never waits for the writer nor makes it wait, and so
// copies pages while the writer goes on. It cannot finish the log while the
// writer keeps appending, though, and SQLite starts the log over only once
// all of it is copied: under sustained load the log grew to 2 GB. So the
// writer connection still checkpoints itself, past 32,000 pages (128 MB):
// by then the goroutine has copied nearly all of it, so the writer's
// checkpoint is short, completes, and its next transaction starts the log
// over. Short is still an fsync of the database file that every webhook of
// the batch behind it waits for: past 4,000 pages, as first set, that was
// every second under full load, and a burst's p99 was 34 ms with the
// projector deferring; past 32,000 pages it is every 10 s or so, and the p99
// was 23 ms (scripts/bench-ingest.sh's workload, empty store, 30 s). The cost
// is a log file of up to 128 MB, which a restart after a crash reads through
// once. Pool connections never checkpoint in their commits (a sign-in should
// not pay for the webhooks' pages). Measured when the goroutine came, with
// scripts/bench-ingest.sh sqlite (30 s, an empty store then a second run on
// it, interleaved): acknowledged 4,305 and 3,287 events/s with p99 50 and
// 71 ms before, 4,472 and 3,888 with p99 44 and 54 ms with the goroutine
// alone; the projector alone caught up at 1,920 and 1,585 events/s before,
// 2,347 and 1,880 after.

// The writer connection also keeps its temporary files in memory
// (temp_store = MEMORY). A statement that may fail halfway (a multi-row
// INSERT, anything under a savepoint such as the projector's batch) copies
// every page it changes to a statement journal first, so it can be undone
// alone; past 64 KiB that journal spills to a temporary file. A batch of
// webhooks changes far more than that, so each commit wrote its pages twice
// through syscalls: 11% of the server's CPU under the ingest benchmark, on
// the writer's thread, which every acknowledgement waits for. In memory the
// journal costs a copy; it is freed at the end of each statement or batch and
// is bounded by the pages one transaction changes. Measured with
// scripts/bench-ingest.sh's workload on an empty store, 30 s, interleaved:
// 5,945 and 5,842 events/s before, 6,325 and 6,411 after.

// The drivers: mattn's SQLite driver, with automatic checkpoints off on every
// pool connection and at writerCheckpointPages on the writer's.
const (
	sqlitePoolDriver   = "sqlite3_smiledash_pool"
	sqliteWriterDriver = "sqlite3_smiledash_writer"
)

func init() {
	sql.Register(sqlitePoolDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return pragmas(c, "PRAGMA wal_autocheckpoint = 0")
	}})
	sql.Register(sqliteWriterDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return pragmas(c, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerCheckpointPages), "PRAGMA temp_store = MEMORY")
	}})
}

// writerCheckpointPages is the log size at which the writer checkpoints.
const writerCheckpointPages = 32000

func pragmas(c *sqlite3.SQLiteConn, statements ...string) error {
	for _, stmt := range statements {
		if _, err := c.Exec(stmt, nil); err != nil {
			return fmt.Errorf("models: %s: %w", stmt, err)
		}
	}
	return nil
}

// checkpointEvery is how often the store checkpoints its log.
const checkpointEvery = 500 * time.Millisecond

// checkpointWAL checkpoints db's log every interval until ctx ends, then
// closes done. A failed checkpoint (a full disk, say) loses nothing: the log
// keeps every commit and the next tick tries again.
func checkpointWAL(ctx context.Context, db *gorm.DB, interval time.Duration, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = db.WithContext(ctx).Exec("PRAGMA wal_checkpoint(PASSIVE)").Error
		}
	}
}
