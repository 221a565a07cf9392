// Package models owns persistence and the domain rules: the GORM models
// (entities.go and beside each query), Smile's lifecycle ranks and the text the
// stores can hold, the projector's position and lag, and the queries the pages
// need. Handlers never write SQL. Three siblings share this store's database
// handle and import nothing of each other: models/ingest writes the event log
// and its projections (the webhook writer, the projector, rebuilds, erasure),
// models/auth is sign-in and API tokens, models/live the change fan-out.
//
// Data access: GORM's builder for entities and page queries; SQL text through
// GORM's Exec and Raw where the builder cannot say it (the throttle upsert,
// the counters' and gaps' multi-row upserts the projector calls, the
// projector's position in projector_state.go).
package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"smiledash/migrations"
	_ "smiledash/models/internal/sqlitepcache" // SQLite's page cache, wrapped before SQLite is first used
	"smiledash/models/live"
)

// ErrNotFound is returned by single-row lookups that find nothing.
var ErrNotFound = errors.New("models: not found")

// Store is the database behind smiledash: SQLite by default, PostgreSQL for
// several replicas.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect migrations.Dialect
	// writer is the handle the event log and the projections are written
	// through. On SQLite it is a second GORM handle on a single connection: group commits never queue behind page reads for a
	// connection, and the projector, rebuilds and erasures take turns on it
	// without SQLite's busy waits. On PostgreSQL it is db itself.
	writer *gorm.DB
	// writerSQL is writer's own pool on SQLite (nil on PostgreSQL), for Close.
	writerSQL *sql.DB
	// changes hears about every timeline item this process stores.
	changes live.Bus
	// gapWindow is how long a widget claim waits for its webhook (gaps.go).
	gapWindow atomic.Int64
	// stopCheckpoints ends the SQLite checkpoint goroutine, which closes
	// checkpoints when it has (nil on PostgreSQL; sqlite_checkpoint.go).
	stopCheckpoints context.CancelFunc
	checkpoints     chan struct{}
	// poolWrites counts the SQLite pool's writes in flight (nil on
	// PostgreSQL; sqlite_pool.go).
	poolWrites *atomic.Int64
}

// Open opens the database named by dsn: a postgres:// URL selects PostgreSQL,
// anything else is a SQLite file path (created with its directory if missing).
// It does not apply migrations; call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if isPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Page cache sizes bound the process's memory: the writer's cache holds the
// index pages random inserts touch (the event id index of a million events is
// about 45 MB) and the projections' rows the projector updates, users and
// accounts all over their tables; each of the few reader connections needs
// far less. Catching up alone after a 60-second burst on an empty store
// (about 440,000 events for 100,000 users, a 600 MB store), the projector
// took 181 s with 128 MB, 158 s with 256 MB and 142 s with 512 MB: it
// read pages back from the operating system's cache instead. The issue's
// bound is 3 minutes; 256 MB keeps a margin and the process under about
// 600 MB.
const (
	writerCacheKiB = 256 << 10
	readerCacheKiB = 16 << 10
)

// sqliteDSN adds the pragmas every connection needs: WAL so readers never block
// the writer, foreign keys, a busy timeout instead of instant SQLITE_BUSY, and
// immediate transactions so a writer never fails upgrading a read lock.
func sqliteDSN(path string, cacheKiB int) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	q.Set("_cache_size", fmt.Sprintf("-%d", cacheKiB))
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("models: create data dir: %w", err)
		}
	}
	sqlDB, err := sql.Open(sqlitePoolDriver, sqliteDSN(path, readerCacheKiB))
	if err != nil {
		return nil, fmt.Errorf("models: open sqlite %s: %w", path, err)
	}
	poolWrites := new(atomic.Int64)
	db, err := gorm.Open(sqlite.New(sqlite.Config{Conn: countingPool{DB: sqlDB, writes: poolWrites}}), gormConfig())
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("models: open sqlite %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetMaxIdleConns(8)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)

	writer, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteWriterDriver, DSN: sqliteDSN(path, writerCacheKiB)}), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("models: open sqlite writer: %w", err)
	}
	writerSQL, err := writer.DB()
	if err != nil {
		return nil, fmt.Errorf("models: sqlite writer handle: %w", err)
	}
	writerSQL.SetMaxOpenConns(1)
	writerSQL.SetMaxIdleConns(1)
	writerSQL.SetConnMaxLifetime(0)
	writerSQL.SetConnMaxIdleTime(0)
	s := &Store{db: db, sqlDB: sqlDB, dialect: migrations.SQLite, writer: writer, writerSQL: writerSQL, poolWrites: poolWrites}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	ckptCtx, stop := context.WithCancel(context.Background())
	s.checkpoints = make(chan struct{})
	s.stopCheckpoints = stop
	go checkpointWAL(ckptCtx, db, checkpointEvery, s.checkpoints)
	return s, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := gorm.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("models: open postgres: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: postgres handle: %w", err)
	}
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(10)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, sqlDB: sqlDB, dialect: migrations.Postgres, writer: db}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// gormConfig is every handle's configuration. PrepareStmt stays off, the
// writer's too: everything the writer runs is inside a transaction, and GORM
// prepares a transaction's statements on that transaction, whose statements
// database/sql closes at commit, so the next transaction prepares them again
// (Tx.StmtContext re-prepares a closed statement) and the cache only grows
// with every distinct multi-row statement. Measured on the ingest benchmark
// (go test ./models/ingest -run '^$' -bench 'IngestRandomUsers/sqlite/ack'
// -benchtime 20000x, interleaved, load ~5): 4,421 and 3,700 events/s off,
// 4,378 and 4,490 on, i.e. noise.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
	}
}

// Dialect tells which database this is.
func (s *Store) Dialect() migrations.Dialect { return s.dialect }

// DB exposes the GORM handle to tests and commands that need raw access.
func (s *Store) DB() *gorm.DB { return s.db }

// Writer is the handle the event log and the projections are written through
// (models/ingest): on SQLite a single connection of its own, on PostgreSQL
// the pool.
func (s *Store) Writer() *gorm.DB { return s.writer }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("models: ping: %w", err)
	}
	return nil
}

// Migrator returns the schema migrator for this database.
func (s *Store) Migrator() (*migrations.Migrator, error) {
	return migrations.New(s.sqlDB, s.dialect)
}

// Migrate applies pending migrations and returns how many ran.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	m, err := s.Migrator()
	if err != nil {
		return 0, err
	}
	return m.Up(ctx)
}

// Close closes every handle.
func (s *Store) Close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
		<-s.checkpoints
	}
	var errs []error
	if s.writerSQL != nil {
		errs = append(errs, s.writerSQL.Close())
	}
	errs = append(errs, s.sqlDB.Close())
	return errors.Join(errs...)
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
