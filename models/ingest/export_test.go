package ingest

import "context"

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
