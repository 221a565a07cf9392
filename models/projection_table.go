package models

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gorm.io/gorm/schema"
)

// table is one projection table: how to find its rows and write them.
type table[K comparable, V any] struct {
	name   string
	upsert string          // INSERT ... ON CONFLICT (pk) DO UPDATE SET every updatable column
	fields []*schema.Field // in the order of the upsert's placeholders
	// groups update an existing row one group of columns at a time (struct tag
	// proj:"name"; untagged columns form one group), so a batch rewrites only
	// the columns that changed and SQLite maintains only the indexes on them.
	groups  []columnGroup
	updates []string // by mask of groups; see buildUpdates
	pk      []*schema.Field
	key     func(*V) K
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
		// Keys and columns tagged <-:create never change once a row exists;
		// leaving them out of the update spares SQLite their index entries.
		if !f.PrimaryKey && f.Updatable {
			sets = append(sets, f.DBName+" = excluded."+f.DBName)
		}
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s",
		sch.Table, strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "),
		strings.Join(sch.PrimaryFieldDBNames, ", "), strings.Join(sets, ", "))
	t := &table[K, V]{name: sch.Table, upsert: s.rebind(q), fields: fields, groups: columnGroups(sch), key: key}
	if err := t.buildUpdates(s, sch); err != nil {
		return nil, err
	}
	return t, nil
}

// args returns the row's values in the upsert's placeholder order.
func (t *table[K, V]) args(ctx context.Context, row *V) []any {
	rv := reflect.ValueOf(row).Elem()
	out := make([]any, len(t.fields))
	for i, f := range t.fields {
		out[i], _ = f.ValueOf(ctx, rv)
	}
	return out
}

type columnGroup struct {
	fields []*schema.Field
}

// maxGroups bounds the column groups of a table: one UPDATE is prepared for
// every combination of groups (2^n - 1 statements).
const maxGroups = 6

func columnGroups(sch *schema.Schema) []columnGroup {
	byName := map[string]*columnGroup{}
	var order []string
	for _, f := range sch.Fields {
		if f.DBName == "" || f.PrimaryKey || !f.Updatable {
			continue
		}
		name := f.Tag.Get("proj")
		g, ok := byName[name]
		if !ok {
			g = &columnGroup{}
			byName[name] = g
			order = append(order, name)
		}
		g.fields = append(g.fields, f)
	}
	out := make([]columnGroup, 0, len(order))
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out
}

// updates builds one UPDATE per non-empty combination of groups, indexed by the
// bit mask of the groups it sets.
func (t *table[K, V]) buildUpdates(s *Store, sch *schema.Schema) error {
	if len(t.groups) > maxGroups {
		return fmt.Errorf("models: %s has %d column groups, at most %d", t.name, len(t.groups), maxGroups)
	}
	where := make([]string, len(sch.PrimaryFields))
	for i, f := range sch.PrimaryFields {
		where[i] = f.DBName + " = ?"
	}
	t.pk = sch.PrimaryFields
	t.updates = make([]string, 1<<len(t.groups))
	for mask := 1; mask < len(t.updates); mask++ {
		var sets []string
		for i, g := range t.groups {
			if mask&(1<<i) != 0 {
				for _, f := range g.fields {
					sets = append(sets, f.DBName+" = ?")
				}
			}
		}
		t.updates[mask] = s.rebind(fmt.Sprintf("UPDATE %s SET %s WHERE %s", t.name, strings.Join(sets, ", "), strings.Join(where, " AND ")))
	}
	return nil
}

// changed returns the mask of the groups in which row differs from before.
func (t *table[K, V]) changed(ctx context.Context, row *V, before V) int {
	rv, bv := reflect.ValueOf(row).Elem(), reflect.ValueOf(&before).Elem()
	mask := 0
	for i, g := range t.groups {
		for _, f := range g.fields {
			a, _ := f.ValueOf(ctx, rv)
			b, _ := f.ValueOf(ctx, bv)
			if !reflect.DeepEqual(a, b) {
				mask |= 1 << i
				break
			}
		}
	}
	return mask
}

// updateArgs returns the values of the groups in mask, then the primary key.
func (t *table[K, V]) updateArgs(ctx context.Context, mask int, row *V) []any {
	rv := reflect.ValueOf(row).Elem()
	var out []any
	for i, g := range t.groups {
		if mask&(1<<i) != 0 {
			for _, f := range g.fields {
				v, _ := f.ValueOf(ctx, rv)
				out = append(out, v)
			}
		}
	}
	for _, f := range t.pk {
		v, _ := f.ValueOf(ctx, rv)
		out = append(out, v)
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

// statements lists every statement the projection tables write with.
func (t *tables) statements() []string {
	var out []string
	add := func(upsert string, updates []string) {
		out = append(out, upsert)
		out = append(out, updates[1:]...)
	}
	add(t.users.upsert, t.users.updates)
	add(t.accounts.upsert, t.accounts.updates)
	add(t.archives.upsert, t.archives.updates)
	add(t.invites.upsert, t.invites.updates)
	add(t.tasks.upsert, t.tasks.updates)
	add(t.data.upsert, t.data.updates)
	add(t.records.upsert, t.records.updates)
	add(t.verifications.upsert, t.verifications.updates)
	return out
}
