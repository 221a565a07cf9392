// Package sqlitepcache installs a page cache for SQLite that spares a writer
// a scan of its whole cache at almost every commit.
//
// At the end of every write transaction SQLite asks its page cache (pcache1)
// to drop the pages past the database's end. pcache1 remembers the largest
// page number it has held since the last such request and, when that is past
// the end, scans its whole hash table. When a B-tree page splits, SQLite
// sorts the new pages by number and, to swap two, parks one for a moment on
// the page that holds the lock byte at 1 GiB, which is past the end of any
// database under 1 GiB. So nearly every commit of random inserts scanned the
// writer's cache, up to 256 MB of pages: 6% of the server's CPU under the
// ingest benchmark, on the writer's thread, which every acknowledgement waits
// for.
//
// The wrapper keeps its own bound on each cache's page numbers, leaving the
// parked lock page out while nothing stays parked there, and passes a request
// on only when a page past the end may exist. Everything else is pcache1's.
//
// It must be installed before SQLite is first used in the process, so it is
// installed when this package is initialised; import it from the package that
// opens databases.
package sqlitepcache

/*
#include "pcache.h"
*/
import "C"

import "fmt"

var installErr error

func init() {
	if rc := C.smiledash_pcache_install(); rc != 0 {
		installErr = fmt.Errorf("sqlitepcache: sqlite3_config returned %d (SQLite was used before the cache was installed)", int(rc))
	}
}

// Installed reports whether the page cache is in use: nil, or why not (the
// process then runs with SQLite's own, only slower).
func Installed() error { return installErr }

// ScansAvoided counts the commits whose scan of the whole cache the wrapper
// spared: pcache1 would have scanned, and no page past the end existed.
func ScansAvoided() int64 { return int64(C.smiledash_pcache_scans_avoided()) }

// check runs the C-side checks of the wrapper (pcache.c), for the tests.
func check() int { return int(C.smiledash_pcache_check()) }
