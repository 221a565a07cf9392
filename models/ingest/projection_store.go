package ingest

import (
	"context"
	"fmt"
	"reflect"
	"smiledash/models"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// rowValues holds projection rows by value, one map per table: a copy that
// later changes to a projection's rows cannot reach.
type rowValues struct {
	users         map[int64]models.SmileUser
	accounts      map[string]models.Account
	archives      map[string]models.Archive
	invites       map[string]models.Invite
	tasks         map[taskKey]models.Task
	data          map[dataKey]models.DataAvailability
	records       map[string]models.Record
	verifications map[string]models.Verification
}

// projectionCache keeps projection rows the writer has committed, so a batch
// loads only rows it has not seen. It is used only where this process is the
// single writer of projections (SQLite); rows are copied in and out, so a batch
// that fails to commit leaves the cache untouched.
type projectionCache = rowValues

// maxCachedRows bounds each cached table; past it the table's cache starts
// over. It bounds the process's memory: a cached row costs 270 bytes (an
// account) to 600 (a data-availability row) with its map entry, measured with
// a heap profile under random-user load, where the cache was 70% of the live
// heap; at 100,000 a table, as it was, it could reach about 120 MB. At 20,000
// it stays under about 30 MB. Misses cost little: a batch loads the rows it
// lacks with one query per table.
const maxCachedRows = 20_000

func newProjectionCache() *projectionCache {
	return &projectionCache{
		users: map[int64]models.SmileUser{}, accounts: map[string]models.Account{}, archives: map[string]models.Archive{},
		invites: map[string]models.Invite{}, tasks: map[taskKey]models.Task{}, data: map[dataKey]models.DataAvailability{},
		records: map[string]models.Record{}, verifications: map[string]models.Verification{},
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
	if err := loadRows(q, "user_key IN ?", fromCache(cache.users, t.users, p.users), p.users, func(r *models.SmileUser) int64 { return r.UserKey }); err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	missingAccounts := fromCache(cache.accounts, t.accounts, p.accounts)
	if err := loadRows(q, "id IN ?", missingAccounts, p.accounts, func(r *models.Account) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	// Data rows are loaded per account: a cached account has all its data rows
	// cached, an uncached one has them loaded here.
	fromCache(cache.data, t.data, p.data)
	if err := loadRows(q, "account_id IN ?", missingAccounts, p.data, func(r *models.DataAvailability) dataKey { return dataKey{r.AccountID, r.Datapoint} }); err != nil {
		return nil, fmt.Errorf("load data availability: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.archives, t.archives, p.archives), p.archives, func(r *models.Archive) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load archives: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.invites, t.invites, p.invites), p.invites, func(r *models.Invite) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load invites: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.records, t.records, p.records), p.records, func(r *models.Record) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load records: %w", err)
	}
	if err := loadRows(q, "id IN ?", fromCache(cache.verifications, t.verifications, p.verifications), p.verifications, func(r *models.Verification) string { return r.ID }); err != nil {
		return nil, fmt.Errorf("load verifications: %w", err)
	}
	var sources []string
	for _, k := range fromCache(cache.tasks, t.tasks, p.tasks) {
		sources = append(sources, k.sourceID)
	}
	if err := loadRows(q, "source_id IN ?", uniq(sources), p.tasks, func(r *models.Task) taskKey { return taskKey{r.SourceID, r.TaskType} }); err != nil {
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

// save writes the rows that differ from how they were loaded: one multi-row
// upsert per table through GORM (INSERT … ON CONFLICT (key) DO UPDATE SET
// every projected column = excluded's), the same statement on SQLite and
// PostgreSQL. The projector computed each row from the stored one under the
// projection lock, so the row it writes is the whole truth; then the event
// counts, which only ever add up.
func (p *projection) save(tx *gorm.DB, before rowValues) error {
	g := tx.Clauses(clause.OnConflict{UpdateAll: true})
	for _, err := range []error{
		upsertChanged(g, "users", p.users, before.users), upsertChanged(g, "accounts", p.accounts, before.accounts),
		upsertChanged(g, "archives", p.archives, before.archives), upsertChanged(g, "invites", p.invites, before.invites),
		upsertChanged(g, "tasks", p.tasks, before.tasks), upsertChanged(g, "data availability", p.data, before.data),
		upsertChanged(g, "records", p.records, before.records), upsertChanged(g, "verifications", p.verifications, before.verifications),
	} {
		if err != nil {
			return err
		}
	}
	return saveCounts(tx, p.counts)
}

// upsertChanged writes the rows that differ from how they were loaded, in
// multi-row upserts.
func upsertChanged[K comparable, V any](g *gorm.DB, name string, rows map[K]*V, before map[K]V) error {
	var changed []*V
	for k, row := range rows {
		if old, ok := before[k]; !ok || !reflect.DeepEqual(*row, old) {
			changed = append(changed, row)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := g.CreateInBatches(changed, 500).Error; err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}

// saveCounts adds a batch's stored events per type to event_counts.
func saveCounts(tx *gorm.DB, counts map[string]int64) error {
	if len(counts) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(counts))
	for typ, n := range counts {
		args = append(args, typ, n)
	}
	err := tx.Exec("INSERT INTO event_counts (type, stored) VALUES "+valuesList(len(counts), 2)+
		" ON CONFLICT (type) DO UPDATE SET stored = event_counts.stored + excluded.stored", args...).Error
	if err != nil {
		return fmt.Errorf("save event counts: %w", err)
	}
	return nil
}
