// A page cache for SQLite that wraps its own (pcache1) to spare the writer a
// scan of its whole cache at almost every commit. See sqlitepcache.go.

#include <stdlib.h>
#include "pcache.h"

// Declared here rather than taken from a header: the SQLite library is
// github.com/mattn/go-sqlite3's copy, linked into the same binary. This is
// the documented interface of sqlite3.h (sqlite3_pcache_methods2).
typedef struct sqlite3_pcache sqlite3_pcache;
typedef struct sqlite3_pcache_page {
	void *pBuf;
	void *pExtra;
} sqlite3_pcache_page;
typedef struct sqlite3_pcache_methods2 {
	int iVersion;
	void *pArg;
	int (*xInit)(void *);
	void (*xShutdown)(void *);
	sqlite3_pcache *(*xCreate)(int szPage, int szExtra, int bPurgeable);
	void (*xCachesize)(sqlite3_pcache *, int nCachesize);
	int (*xPagecount)(sqlite3_pcache *);
	sqlite3_pcache_page *(*xFetch)(sqlite3_pcache *, unsigned key, int createFlag);
	void (*xUnpin)(sqlite3_pcache *, sqlite3_pcache_page *, int discard);
	void (*xRekey)(sqlite3_pcache *, sqlite3_pcache_page *, unsigned oldKey, unsigned newKey);
	void (*xTruncate)(sqlite3_pcache *, unsigned iLimit);
	void (*xDestroy)(sqlite3_pcache *);
	void (*xShrink)(sqlite3_pcache *);
} sqlite3_pcache_methods2;

extern int sqlite3_config(int, ...);

#define SQLITE_CONFIG_PCACHE2 18
#define SQLITE_CONFIG_GETPCACHE2 19
// The byte offset SQLite locks on; the page holding it is never used for
// data (sqlite3PendingByte, changed only by SQLite's own test builds).
#define PENDING_BYTE 0x40000000u

static sqlite3_pcache_methods2 inner_methods;
static sqlite3_pcache_methods2 methods;
static long long scans_avoided;

// cache wraps one of SQLite's caches with an upper bound on its page numbers.
typedef struct cache {
	sqlite3_pcache *inner;
	// lock_page is the page holding PENDING_BYTE at this page size: when the
	// B-tree swaps two pages' numbers it parks one there for a moment.
	unsigned lock_page;
	// max_page bounds the number of every page in the cache, except those
	// parked on lock_page, which parked counts.
	unsigned max_page;
	unsigned parked;
	// lock_page_used says a page was parked on lock_page since the last
	// truncation: pcache1 would now scan its whole cache.
	int lock_page_used;
} cache;

static sqlite3_pcache *cache_create(int page_size, int extra_size, int purgeable) {
	cache *c = malloc(sizeof *c);
	if (c == 0) {
		return 0;
	}
	c->inner = inner_methods.xCreate(page_size, extra_size, purgeable);
	if (c->inner == 0) {
		free(c);
		return 0;
	}
	c->lock_page = PENDING_BYTE / (unsigned)page_size + 1;
	c->max_page = 0;
	c->parked = 0;
	c->lock_page_used = 0;
	return (sqlite3_pcache *)c;
}

static void cache_cachesize(sqlite3_pcache *p, int n) { inner_methods.xCachesize(((cache *)p)->inner, n); }

static int cache_pagecount(sqlite3_pcache *p) { return inner_methods.xPagecount(((cache *)p)->inner); }

static sqlite3_pcache_page *cache_fetch(sqlite3_pcache *p, unsigned key, int create_flag) {
	cache *c = (cache *)p;
	sqlite3_pcache_page *page = inner_methods.xFetch(c->inner, key, create_flag);
	if (page != 0 && key > c->max_page) {
		c->max_page = key;
	}
	return page;
}

static void cache_unpin(sqlite3_pcache *p, sqlite3_pcache_page *page, int discard) {
	inner_methods.xUnpin(((cache *)p)->inner, page, discard);
}

static void cache_rekey(sqlite3_pcache *p, sqlite3_pcache_page *page, unsigned old_key, unsigned new_key) {
	cache *c = (cache *)p;
	inner_methods.xRekey(c->inner, page, old_key, new_key);
	if (old_key == c->lock_page && c->parked > 0) {
		c->parked--;
	}
	if (new_key == c->lock_page) {
		c->parked++;
		c->lock_page_used = 1;
	} else if (new_key > c->max_page) {
		c->max_page = new_key;
	}
}

// cache_truncate drops the pages numbered limit or more. SQLite asks at the end of
// every write transaction, for the pages past the database's end; pcache1
// then scans its whole hash table whenever a page was ever numbered past that
// end since its last truncation, which the lock page parking makes true of
// almost every commit that splits a B-tree page, until the database reaches
// 1 GiB. When no page can be numbered limit or more there is nothing to drop.
static void cache_truncate(sqlite3_pcache *p, unsigned limit) {
	cache *c = (cache *)p;
	int used = c->lock_page_used;
	c->lock_page_used = 0;
	if (limit > c->max_page && (c->parked == 0 || limit > c->lock_page)) {
		if (used && limit <= c->lock_page) {
			__atomic_add_fetch(&scans_avoided, 1, __ATOMIC_RELAXED);
		}
		return;
	}
	inner_methods.xTruncate(c->inner, limit);
	if (limit == 0) {
		c->max_page = 0;
	} else if (c->max_page >= limit) {
		c->max_page = limit - 1;
	}
	if (limit <= c->lock_page) {
		c->parked = 0;
	}
}

static void cache_destroy(sqlite3_pcache *p) {
	cache *c = (cache *)p;
	inner_methods.xDestroy(c->inner);
	free(c);
}

static void cache_shrink(sqlite3_pcache *p) { inner_methods.xShrink(((cache *)p)->inner); }

int smiledash_pcache_install(void) {
	int rc = sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner_methods);
	if (rc != 0) {
		return rc;
	}
	methods = inner_methods; // version, argument, init and shutdown as they are
	methods.xCreate = cache_create;
	methods.xCachesize = cache_cachesize;
	methods.xPagecount = cache_pagecount;
	methods.xFetch = cache_fetch;
	methods.xUnpin = cache_unpin;
	methods.xRekey = cache_rekey;
	methods.xTruncate = cache_truncate;
	methods.xDestroy = cache_destroy;
	methods.xShrink = cache_shrink;
	return sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods);
}

long long smiledash_pcache_scans_avoided(void) {
	return __atomic_load_n(&scans_avoided, __ATOMIC_RELAXED);
}

// smiledash_pcache_check exercises the installed methods on a cache of its
// own, for the tests (cgo cannot be used in a _test.go file): after every
// truncation no page numbered at or past its limit may be found. It returns 0,
// or the number of the first check that failed. SQLite must be initialised.
int smiledash_pcache_check(void) {
	enum { page_size = 4096, limit = 11 };
	unsigned lock = PENDING_BYTE / page_size + 1;
	sqlite3_pcache *p = methods.xCreate(page_size, 64, 1);
	sqlite3_pcache_page *pg;
	int failed = 0;
	if (p == 0) {
		return 1;
	}
	methods.xCachesize(p, 100);
	for (unsigned key = 1; key <= 20; key++) {
		if ((pg = methods.xFetch(p, key, 2)) == 0) {
			failed = 2;
			goto done;
		}
		methods.xUnpin(p, pg, 0);
	}
	// Pages past the limit go, the others stay.
	methods.xTruncate(p, limit);
	if (methods.xFetch(p, 15, 0) != 0) {
		failed = 3;
		goto done;
	}
	if ((pg = methods.xFetch(p, 5, 0)) == 0) {
		failed = 4;
		goto done;
	}
	// A page moved past the end through the lock page goes.
	methods.xRekey(p, pg, 5, lock);
	methods.xRekey(p, pg, lock, 30);
	methods.xUnpin(p, pg, 0);
	methods.xTruncate(p, limit);
	if (methods.xFetch(p, 30, 0) != 0) {
		failed = 5;
		goto done;
	}
	// Two pages swapped through the lock page, as a B-tree split does: the
	// truncation is spared and both pages stay.
	sqlite3_pcache_page *a = methods.xFetch(p, 6, 0), *b = methods.xFetch(p, 7, 0);
	if (a == 0 || b == 0) {
		failed = 6;
		goto done;
	}
	methods.xRekey(p, a, 6, lock);
	methods.xRekey(p, b, 7, 6);
	methods.xRekey(p, a, lock, 7);
	methods.xUnpin(p, a, 0);
	methods.xUnpin(p, b, 0);
	long long avoided = smiledash_pcache_scans_avoided();
	methods.xTruncate(p, limit);
	if (smiledash_pcache_scans_avoided() != avoided + 1) {
		failed = 7;
		goto done;
	}
	if ((a = methods.xFetch(p, 6, 0)) == 0 || (b = methods.xFetch(p, 7, 0)) == 0) {
		failed = 8;
		goto done;
	}
	methods.xUnpin(p, b, 0);
	// A page left parked on the lock page goes.
	methods.xRekey(p, a, 6, lock);
	methods.xUnpin(p, a, 0);
	methods.xTruncate(p, limit);
	if (methods.xFetch(p, lock, 0) != 0) {
		failed = 9;
		goto done;
	}
done:
	methods.xDestroy(p);
	return failed;
}
