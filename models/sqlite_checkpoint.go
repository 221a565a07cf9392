package models

import (
	"context"
	"database/sql"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// SQLite copies its write-ahead log into the database file at checkpoints.
// By default the connection whose commit takes the log past 1,000 pages runs
// one, inside that commit: on the writer connection, a batch of webhooks
// then waited for thousands of random page writes and an fsync of the
// database file, and the projector's larger commits paid for them too. Every
// connection here has automatic checkpoints off, and a goroutine of the store
// checkpoints from a pool connection instead, in PASSIVE mode, which never
// waits for the writer nor makes it wait. Measured with
// scripts/bench-ingest.sh sqlite (30 s, an empty store then a second run on
// it, interleaved): acknowledged 4,305 and 3,287 events/s with p99 50 and
// 71 ms before, 4,472 and 3,888 with p99 44 and 54 ms after; the projector
// alone caught up at 1,920 and 1,585 events/s before, 2,347 and 1,880 after.

// sqliteDriverName is mattn's SQLite driver with automatic checkpoints off on
// every connection it opens.
const sqliteDriverName = "sqlite3_smiledash"

func init() {
	sql.Register(sqliteDriverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
		return err
	}})
}

// checkpointEvery is how often the store checkpoints its log. At the most
// webhooks this machine takes, the log grows by ~20 MB between two.
const checkpointEvery = 500 * time.Millisecond

// checkpointWAL checkpoints db's log every interval until ctx ends, then
// closes done. A failed checkpoint (a full disk, say) loses nothing: the log
// keeps every commit and the next tick tries again. PASSIVE copies what no
// reader still needs; the writer starts the log over once all of it is
// copied, so it does not grow while checkpoints keep up.
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
