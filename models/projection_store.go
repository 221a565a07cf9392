package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// stmtCache holds statements prepared up front, outside any transaction: on
// SQLite the writer handle has a single connection, which a transaction holds.
type stmtCache struct {
	stmts map[string]*sql.Stmt
}

func prepareAll(ctx context.Context, db *sql.DB, queries ...string) (*stmtCache, error) {
	c := &stmtCache{stmts: map[string]*sql.Stmt{}}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			_ = c.close()
			return nil, fmt.Errorf("models: prepare %q: %w", q, err)
		}
		c.stmts[q] = st
	}
	return c, nil
}

func (c *stmtCache) get(_ context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	return nil, fmt.Errorf("models: statement not prepared: %q", query)
}

func (c *stmtCache) close() error {
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// rowValues holds projection rows by value, one map per table: a copy that
// later changes to a projection's rows cannot reach.
type rowValues struct {
	users         map[int64]SmileUser
	accounts      map[string]Account
	archives      map[string]Archive
	invites       map[string]Invite
	tasks         map[taskKey]Task
	data          map[dataKey]DataAvailability
	records       map[string]Record
	verifications map[string]Verification
}

// projectionCache keeps projection rows the writer has committed, so a batch
// loads only rows it has not seen. It is used only where this process is the
// single writer of projections (SQLite); rows are copied in and out, so a batch
// that fails to commit leaves the cache untouched.
type projectionCache = rowValues

// maxCachedRows bounds each cached table; past it the table's cache starts over.
const maxCachedRows = 100_000

func newProjectionCache() *projectionCache {
	return &projectionCache{
		users: map[int64]SmileUser{}, accounts: map[string]Account{}, archives: map[string]Archive{},
		invites: map[string]Invite{}, tasks: map[taskKey]Task{}, data: map[dataKey]DataAvailability{},
		records: map[string]Record{}, verifications: map[string]Verification{},
	}
}

// remember stores every row of a committed projection.
func (c *projectionCache) remember(p *projection) {
	keep(c.users, p.users)
	keep(c.accounts, p.accounts)
	keep(c.archives, p.archives)
	keep(c.invites, p.invites)
	keep(c.tasks, p.tasks)
	keep(c.data, p.data)
	keep(c.records, p.records)
	keep(c.verifications, p.verifications)
}

func keep[K comparable, V any](cache map[K]V, rows map[K]*V) {
	if len(cache)+len(rows) > maxCachedRows {
		clear(cache)
	}
	for k, v := range rows {
		cache[k] = *v
	}
}

// fromCache copies cached rows for keys into dst and returns the keys it lacks.
func fromCache[K comparable, V any](cache map[K]V, keys []K, dst map[K]*V) []K {
	var missing []K
	for _, k := range keys {
		if v, ok := cache[k]; ok {
			dst[k] = &v
		} else {
			missing = append(missing, k)
		}
	}
	return missing
}

// loadProjection reads the rows a batch touches inside the writer's transaction,
// from the cache where it has them.
func loadProjection(ctx context.Context, tx *gorm.DB, t touched, cache *projectionCache) (*projection, error) {
	p := newProjection()
	if cache == nil {
		cache = newProjectionCache() // an empty cache misses everything
	}
	q := tx.WithContext(ctx)
	if err := loadRows(q, "user_key IN ?", fromCache(cache.users, t.users, p.users), p.users, func(r *SmileUser) int64 { return r.UserKey }); err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	missingAccounts := fromCache(cache.accounts, t.accounts, p.accounts)
	if err := loadRows(q, "id IN ?", missingAccounts, p.accounts, func(r *Account) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	// Data rows are loaded per account: a cached account has all its data rows
	// cached, an uncached one has them loaded here.
	fromCache(cache.data, t.data, p.data)
	if err := loadRows(q, "account_id IN ?", missingAccounts, p.data, func(r *DataAvailability) dataKey { return dataKey{r.AccountID, r.Datapoint} }); err != nil {
		return nil, fmt.Errorf("load data availability: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.archives, t.archives, p.archives), p.archives, func(r *Archive) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load archives: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.invites, t.invites, p.invites), p.invites, func(r *Invite) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load invites: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.records, t.records, p.records), p.records, func(r *Record) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load records: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.verifications, t.verifications, p.verifications), p.verifications, func(r *Verification) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load verifications: %w", err)
	}
	var sources []string
	for _, k := range fromCache(cache.tasks, t.tasks, p.tasks) {
		sources = append(sources, k.sourceID)
	}
	if err := loadRows(q, "source_id IN ?", uniq(sources), p.tasks, func(r *Task) taskKey { return taskKey{r.SourceID, r.TaskType} }); err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	return p, nil
}

// loadRows reads the rows matching where (with one IN list) into dst, keeping
// rows already there: those came from the cache.
func loadRows[K comparable, V any, A any](q *gorm.DB, where string, in []A, dst map[K]*V, key func(*V) K) error {
	if len(in) == 0 {
		return nil
	}
	var rows []*V
	if err := q.Where(where, in).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if _, ok := dst[key(r)]; !ok {
			dst[key(r)] = r
		}
	}
	return nil
}

// loaded copies the rows as loaded, before any event is applied. apply
// replaces time pointers rather than writing through them, so a shallow copy is
// a faithful "before".
func (p *projection) loaded() rowValues {
	return rowValues{
		users: copyRows(p.users), accounts: copyRows(p.accounts), archives: copyRows(p.archives),
		invites: copyRows(p.invites), tasks: copyRows(p.tasks), data: copyRows(p.data),
		records: copyRows(p.records), verifications: copyRows(p.verifications),
	}
}

func copyRows[K comparable, V any](m map[K]*V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = *v
	}
	return out
}

// save writes the projection's rows back: rows that did not exist are upserted
// whole, existing rows get one UPDATE of the column groups that changed.
func (p *projection) save(ctx context.Context, t *tables, before rowValues, stmts *stmtCache, bind func(*sql.Stmt) *sql.Stmt) error {
	return errors.Join(
		saveRows(ctx, t.users, p.users, before.users, stmts, bind),
		saveRows(ctx, t.accounts, p.accounts, before.accounts, stmts, bind),
		saveRows(ctx, t.archives, p.archives, before.archives, stmts, bind),
		saveRows(ctx, t.invites, p.invites, before.invites, stmts, bind),
		saveRows(ctx, t.tasks, p.tasks, before.tasks, stmts, bind),
		saveRows(ctx, t.data, p.data, before.data, stmts, bind),
		saveRows(ctx, t.records, p.records, before.records, stmts, bind),
		saveRows(ctx, t.verifications, p.verifications, before.verifications, stmts, bind),
	)
}

func saveRows[K comparable, V any](ctx context.Context, t *table[K, V], rows map[K]*V, before map[K]V,
	stmts *stmtCache, bind func(*sql.Stmt) *sql.Stmt) error {
	for k, row := range rows {
		old, existed := before[k]
		if !existed {
			st, err := stmts.get(ctx, t.upsert)
			if err != nil {
				return err
			}
			if _, err := bind(st).ExecContext(ctx, t.args(ctx, row)...); err != nil {
				return fmt.Errorf("save %s: %w", t.name, err)
			}
			continue
		}
		mask := t.changed(ctx, row, old)
		if mask == 0 {
			continue
		}
		st, err := stmts.get(ctx, t.updates[mask])
		if err != nil {
			return err
		}
		if _, err := bind(st).ExecContext(ctx, t.updateArgs(ctx, mask, row)...); err != nil {
			return fmt.Errorf("update %s: %w", t.name, err)
		}
	}
	return nil
}
