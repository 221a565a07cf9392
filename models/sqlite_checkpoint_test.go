package models_test

import (
	"os"
	"testing"
	"time"

	"gorm.io/gorm"

	"smiledash/models"
	"smiledash/models/internal/sqlitepcache"
	"smiledash/models/storetest"
)

// Commits of under 32,000 pages never checkpoint the SQLite log themselves;
// the store's own goroutine copies it into the database file soon after.
func TestSQLite_CheckpointsOffTheCommitPath(t *testing.T) {
	s := storetest.SQLite(t)
	wantPragma(t, "writer's", s.Writer(), "wal_autocheckpoint", 32000)
	wantPragma(t, "pool's", s.DB(), "wal_autocheckpoint", 0)
	file := databaseFile(t, s)
	size := func() int64 {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	// 2 MB: under the 1,000 pages at which SQLite would checkpoint by itself.
	if err := s.Writer().Exec("CREATE TABLE ballast (b BLOB)").Error; err != nil {
		t.Fatal(err)
	}
	for range 64 {
		if err := s.Writer().Exec("INSERT INTO ballast VALUES (randomblob(32768))").Error; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+2<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d): the log was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The writer's statement journals stay in memory: a batch's multi-row insert
// would otherwise write every page it changes to a temporary file first. The
// pool's connections keep the default, so a large sort for a page still
// spills to disk.
func TestSQLite_WriterKeepsTemporaryFilesInMemory(t *testing.T) {
	s := storetest.SQLite(t)
	wantPragma(t, "writer's", s.Writer(), "temp_store", 2) // MEMORY
	wantPragma(t, "pool's", s.DB(), "temp_store", 0)       // the default
}

// wantPragma fails the test unless pragma reads want on db's connection.
func wantPragma(t *testing.T, whose string, db *gorm.DB, pragma string, want int) {
	t.Helper()
	var got int
	if err := db.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil || got != want {
		t.Fatalf("%s %s = %d (%v), want %d", whose, pragma, got, err, want)
	}
}

// The store runs with the page cache wrapper (models/internal/sqlitepcache):
// the writer's commits of random inserts are spared a scan of its cache.
func TestSQLite_WriterCommitsSkipTheCacheScan(t *testing.T) {
	if err := sqlitepcache.Installed(); err != nil {
		t.Fatal(err)
	}
	s := storetest.SQLite(t)
	if err := s.Writer().Exec("CREATE TABLE ballast (k BLOB PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	before := sqlitepcache.ScansAvoided()
	for range 100 {
		if err := s.Writer().Exec("INSERT INTO ballast SELECT randomblob(64) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)").Error; err != nil {
			t.Fatal(err)
		}
	}
	if sqlitepcache.ScansAvoided() == before {
		t.Fatal("no commit was spared a scan of the writer's cache")
	}
}

// Under sustained writes the log stays bounded: the goroutine alone cannot
// finish it while the writer appends, but the writer's own checkpoint
// completes and the log starts over. The writer's threshold is lowered to
// 4,000 pages here (its one connection keeps the setting), so that 96 MB of
// writes show it rather than 400.
func TestSQLite_LogStaysBoundedUnderSustainedWrites(t *testing.T) {
	s := storetest.SQLite(t)
	file := databaseFile(t, s)
	if err := s.Writer().Exec("PRAGMA wal_autocheckpoint = 4000").Error; err != nil {
		t.Fatal(err)
	}
	if err := s.Writer().Exec("CREATE TABLE ballast (b BLOB)").Error; err != nil {
		t.Fatal(err)
	}
	// 96 MB in 1 MB transactions, back to back.
	for range 96 {
		if err := s.Writer().Exec("INSERT INTO ballast VALUES (randomblob(1048576))").Error; err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(file + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 40<<20 {
		t.Errorf("the log grew to %d MB under 96 MB of writes, want it started over past 16 MB", fi.Size()>>20)
	}
}

// databaseFile is the path of s's SQLite file.
func databaseFile(t *testing.T, s *models.Store) string {
	t.Helper()
	var file struct {
		Seq        int
		Name, File string
	}
	if err := s.DB().Raw("PRAGMA database_list").Scan(&file).Error; err != nil || file.File == "" {
		t.Fatalf("database file %q (%v)", file.File, err)
	}
	return file.File
}
