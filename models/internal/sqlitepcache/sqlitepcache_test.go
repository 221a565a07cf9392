package sqlitepcache_test

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"smiledash/models/internal/sqlitepcache"
)

func TestInstalled(t *testing.T) {
	if err := sqlitepcache.Installed(); err != nil {
		t.Fatal(err)
	}
}

// After every truncation no page at or past its limit can be found, however
// it got there; a swap through the lock page alone spares the scan.
func TestTruncationDropsEveryPagePastTheLimit(t *testing.T) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil { // initialises SQLite, and so the cache
		t.Fatal(err)
	}
	if failed := sqlitepcache.Check(); failed != 0 {
		t.Fatalf("check %d failed (pcache.c, smiledash_pcache_check)", failed)
	}
}

// Random inserts split B-tree pages in nearly every transaction; the wrapper
// spares those commits their scan, and the database stays exactly what was
// written, including after a transaction that grew it was rolled back (its
// pages past the end must then be dropped from the cache, or the next
// transaction to reach them would read the rolled-back content).
func TestRandomInsertsSpareScansAndKeepTheData(t *testing.T) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_journal_mode=WAL&_cache_size=-65536")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection, one cache, as the store's writer
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB)")
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string][]byte{}
	insert := func(tx *sql.Tx, n int, keep bool) {
		t.Helper()
		for range n {
			k := fmt.Sprintf("%016x", rng.Uint64())
			v := make([]byte, 200+rng.IntN(600))
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			if _, err := tx.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", k, v); err != nil {
				t.Fatal(err)
			}
			if keep {
				want[k] = v
			}
		}
	}
	// transaction inserts rows in one transaction ended by end (Commit or
	// Rollback); keep says whether they are expected to stay.
	transaction := func(rows int, keep bool, end func(*sql.Tx) error) {
		t.Helper()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		insert(tx, rows, keep)
		if err := end(tx); err != nil {
			t.Fatal(err)
		}
	}
	commitBatches := func(batches int) {
		for range batches {
			transaction(40, true, (*sql.Tx).Commit)
		}
	}
	before := sqlitepcache.ScansAvoided()
	commitBatches(200)
	if sqlitepcache.ScansAvoided() == before {
		t.Fatal("no commit was spared a scan: random inserts should park a page on the lock page")
	}
	// Grow the database by megabytes, then roll back.
	transaction(5000, false, (*sql.Tx).Rollback)
	commitBatches(200)

	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	rows, err := db.Query("SELECT k, v FROM kv")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(v) != sha256.Sum256(want[k]) {
			t.Fatalf("row %s differs from what was written", k)
		}
		got++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got != len(want) {
		t.Fatalf("%d rows, want %d", got, len(want))
	}
}
