package ingest

import (
	"context"
	"time"
)

// Rebuild stages where tests may pause Reproject.
const (
	RebuildLocked       = "locked"
	BeforeRebuildCommit = "before commit"
	AfterRebuildCommit  = "after commit"
)

// SetRebuildHook makes Reproject call f at each stage, with its context.
func SetRebuildHook(l *Log, f func(ctx context.Context, stage string)) {
	names := map[rebuildStage]string{
		rebuildLocked: RebuildLocked, beforeRebuildCommit: BeforeRebuildCommit, afterRebuildCommit: AfterRebuildCommit,
	}
	l.rebuilds.onStage = func(ctx context.Context, st rebuildStage) { f(ctx, names[st]) }
}

// UnstartedProjector is a projector that does not run, for tests of its
// decisions.
func UnstartedProjector(l *Log, opts ProjectorOptions) *Projector { return l.newProjector(opts) }

// NextBatchAfter is the size the projector would give its next batch after
// one of n events that took took.
func (p *Projector) NextBatchAfter(n int, took time.Duration) int {
	p.batch = n
	p.resize(n, took)
	return p.batch
}
