package models

import (
	"context"
	"database/sql"
	"fmt"

	"smiledash/migrations"
)

const countsUpsert = "INSERT INTO event_counts (type, stored) VALUES (?, ?) " +
	"ON CONFLICT (type) DO UPDATE SET stored = event_counts.stored + excluded.stored"

// projector folds newly stored events into the projections inside a writer
// transaction: load the touched rows (from its cache when it has one), apply
// each event, upsert the rows with prepared statements.
type projector struct {
	store  *Store
	tables *tables
	stmts  *stmtCache
	// cache is nil where another process may write projections (PostgreSQL).
	cache *projectionCache
	gen   uint64 // the store's reprojection generation the cache belongs to
	// gaps keeps the reconciliation gaps in step with projected events (gaps.go).
	gaps *gapHook
}

func (s *Store) newProjector(useCache bool) (*projector, error) {
	t, err := s.projectionTables()
	if err != nil {
		return nil, err
	}
	stmts, err := prepareAll(context.Background(), s.writer, append(t.statements(), s.rebind(countsUpsert))...)
	if err != nil {
		return nil, err
	}
	pr := &projector{store: s, tables: t, stmts: stmts, gen: s.projectionGen.Load(), gaps: newGapHook()}
	if useCache {
		pr.cache = newProjectionCache()
	}
	return pr, nil
}

// project applies events in tx and returns the rows it wrote; call committed
// with them once tx commits.
func (pr *projector) project(ctx context.Context, tx *sql.Tx, events []ProjectedEvent) (*projection, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if gen := pr.store.projectionGen.Load(); pr.cache != nil && gen != pr.gen {
		// Projections were rebuilt since the cache was filled.
		pr.cache, pr.gen = newProjectionCache(), gen
	}
	t := touchedBy(events)
	p, err := loadProjection(ctx, pr.store.gormOn(tx), t, pr.cache)
	if err != nil {
		return nil, fmt.Errorf("models: project: %w", err)
	}
	before := p.loaded()
	for _, ev := range events {
		p.apply(ev)
	}
	// insight-overview hook: the overview's hourly counters, same transaction.
	if err := pr.store.saveHourly(ctx, tx, p.hourly); err != nil {
		return nil, fmt.Errorf("models: project: %w", err)
	}
	// Reconciliation: close the gaps these events answer (gaps.go).
	if err := pr.gaps.project(ctx, pr.store, tx, events); err != nil {
		return nil, fmt.Errorf("models: project: %w", err)
	}
	if pr.store.dialect == migrations.Postgres {
		if err := p.saveSetBased(ctx, pr.store, tx, before); err != nil {
			return nil, fmt.Errorf("models: project: %w", err)
		}
		return p, nil
	}
	// Each statement is bound to the transaction once per batch.
	bound := map[*sql.Stmt]*sql.Stmt{}
	bind := func(st *sql.Stmt) *sql.Stmt {
		if b, ok := bound[st]; ok {
			return b
		}
		b := tx.StmtContext(ctx, st)
		bound[st] = b
		return b
	}
	if err := p.save(ctx, pr.tables, before, pr.stmts, bind); err != nil {
		return nil, fmt.Errorf("models: project: %w", err)
	}
	counts, err := pr.stmts.get(ctx, pr.store.rebind(countsUpsert))
	if err != nil {
		return nil, fmt.Errorf("models: prepare event counts: %w", err)
	}
	counts = bind(counts)
	for typ, n := range p.counts {
		if _, err := counts.ExecContext(ctx, typ, n); err != nil {
			return nil, fmt.Errorf("models: save event counts: %w", err)
		}
	}
	return p, nil
}

// committed records the rows of a committed batch in the cache.
func (pr *projector) committed(p *projection) {
	if pr.cache != nil && p != nil {
		pr.cache.remember(p)
	}
}

func (pr *projector) close() error { return pr.stmts.close() }
