package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// table is one projection table: how to find its rows and upsert them.
type table[K comparable, V any] struct {
	name   string
	upsert string          // INSERT ... ON CONFLICT (pk) DO UPDATE SET every other column
	fields []*schema.Field // in the order of the upsert's placeholders
	key    func(*V) K
}

func newTable[K comparable, V any](s *Store, key func(*V) K) (*table[K, V], error) {
	sch, err := schema.Parse(new(V), &sync.Map{}, s.db.NamingStrategy)
	if err != nil {
		return nil, fmt.Errorf("models: parse %T: %w", new(V), err)
	}
	cols := make([]string, 0, len(sch.Fields))
	var sets []string
	var fields []*schema.Field
	for _, f := range sch.Fields {
		if f.DBName == "" {
			continue
		}
		cols = append(cols, f.DBName)
		fields = append(fields, f)
		if !f.PrimaryKey {
			sets = append(sets, f.DBName+" = excluded."+f.DBName)
		}
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s",
		sch.Table, strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "),
		strings.Join(sch.PrimaryFieldDBNames, ", "), strings.Join(sets, ", "))
	return &table[K, V]{name: sch.Table, upsert: s.rebind(q), fields: fields, key: key}, nil
}

// args returns the row's values in placeholder order.
func (t *table[K, V]) args(ctx context.Context, row *V) []any {
	rv := reflect.ValueOf(row).Elem()
	out := make([]any, len(t.fields))
	for i, f := range t.fields {
		out[i], _ = f.ValueOf(ctx, rv)
	}
	return out
}

// tables holds the projection tables and their prepared upserts.
type tables struct {
	users         *table[int64, SmileUser]
	accounts      *table[string, Account]
	archives      *table[string, Archive]
	invites       *table[string, Invite]
	tasks         *table[taskKey, Task]
	data          *table[dataKey, DataAvailability]
	records       *table[string, Record]
	verifications *table[string, Verification]
}

func (s *Store) projectionTables() (*tables, error) {
	var t tables
	var errs []error
	var err error
	t.users, err = newTable(s, func(u *SmileUser) int64 { return u.UserKey })
	errs = append(errs, err)
	t.accounts, err = newTable(s, func(a *Account) string { return a.ID })
	errs = append(errs, err)
	t.archives, err = newTable(s, func(a *Archive) string { return a.ID })
	errs = append(errs, err)
	t.invites, err = newTable(s, func(a *Invite) string { return a.ID })
	errs = append(errs, err)
	t.tasks, err = newTable(s, func(a *Task) taskKey { return taskKey{a.SourceID, a.TaskType} })
	errs = append(errs, err)
	t.data, err = newTable(s, func(a *DataAvailability) dataKey { return dataKey{a.AccountID, a.Datapoint} })
	errs = append(errs, err)
	t.records, err = newTable(s, func(a *Record) string { return a.ID })
	errs = append(errs, err)
	t.verifications, err = newTable(s, func(a *Verification) string { return a.ID })
	errs = append(errs, err)
	return &t, errors.Join(errs...)
}

// upserts lists every projection upsert statement.
func (t *tables) upserts() []string {
	return []string{t.users.upsert, t.accounts.upsert, t.archives.upsert, t.invites.upsert,
		t.tasks.upsert, t.data.upsert, t.records.upsert, t.verifications.upsert}
}

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

// projectionCache keeps projection rows the writer has committed, so a batch
// loads only rows it has not seen. It is used only where this process is the
// single writer of projections (SQLite); rows are copied in and out, so a batch
// that fails to commit leaves the cache untouched.
type projectionCache struct {
	users         map[int64]SmileUser
	accounts      map[string]Account
	archives      map[string]Archive
	invites       map[string]Invite
	tasks         map[taskKey]Task
	data          map[dataKey]DataAvailability
	records       map[string]Record
	verifications map[string]Verification
}

// maxCachedRows bounds each cached table; past it the table's cache starts over.
const maxCachedRows = 250_000

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

// only returns a projection sharing p's rows, limited to the data and task rows
// in t; every other table holds only touched rows already.
func (p *projection) only(t touched) *projection {
	q := *p
	q.data = make(map[dataKey]*DataAvailability, len(t.data))
	for _, k := range t.data {
		if row, ok := p.data[k]; ok {
			q.data[k] = row
		}
	}
	q.tasks = make(map[taskKey]*Task, len(t.tasks))
	for _, k := range t.tasks {
		if row, ok := p.tasks[k]; ok {
			q.tasks[k] = row
		}
	}
	return &q
}

// save writes every row the projection holds back, one prepared upsert per row.
func (p *projection) save(ctx context.Context, t *tables, stmts *stmtCache, exec func(*sql.Stmt) *sql.Stmt) error {
	return errors.Join(
		saveRows(ctx, t.users, p.users, stmts, exec),
		saveRows(ctx, t.accounts, p.accounts, stmts, exec),
		saveRows(ctx, t.archives, p.archives, stmts, exec),
		saveRows(ctx, t.invites, p.invites, stmts, exec),
		saveRows(ctx, t.tasks, p.tasks, stmts, exec),
		saveRows(ctx, t.data, p.data, stmts, exec),
		saveRows(ctx, t.records, p.records, stmts, exec),
		saveRows(ctx, t.verifications, p.verifications, stmts, exec),
	)
}

func saveRows[K comparable, V any](ctx context.Context, t *table[K, V], rows map[K]*V, stmts *stmtCache, exec func(*sql.Stmt) *sql.Stmt) error {
	if len(rows) == 0 {
		return nil
	}
	st, err := stmts.get(ctx, t.upsert)
	if err != nil {
		return fmt.Errorf("prepare %s upsert: %w", t.name, err)
	}
	st = exec(st)
	for _, row := range rows {
		if _, err := st.ExecContext(ctx, t.args(ctx, row)...); err != nil {
			return fmt.Errorf("save %s: %w", t.name, err)
		}
	}
	return nil
}
