package worker

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Housekeep does, every interval until ctx ends, what keeps imports fast
// and the database tidy: it analyses the tables that imports changed much,
// so that the look-ups of the next units are planned with statistics rather
// than scanning whole tables (store.AnalyzeStale), and deletes the scratch
// instances of dry runs that have ended (store.PurgeDryRuns). Workers that
// run it at once take turns analysing.
func (w *Worker) Housekeep(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		start := time.Now()
		tables, err := w.st.AnalyzeStale(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Warn("analyze", zap.Error(err))
		case len(tables) > 0:
			w.log.Debug("analyzed tables", zap.Strings("tables", tables), zap.Duration("duration", time.Since(start)))
		}
		n, err := w.st.PurgeDryRuns(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Warn("purge dry runs", zap.Error(err))
		case n > 0:
			w.log.Debug("deleted the scratch instances of ended dry runs", zap.Int64("instances", n))
		}
	})
}
