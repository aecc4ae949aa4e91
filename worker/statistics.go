package worker

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// KeepStatistics analyses the tables that imports changed much, every
// interval, until ctx ends, so that the look-ups of the next units are
// planned with statistics rather than scanning whole tables (see
// store.AnalyzeStale). Workers that run it at once take turns.
func (w *Worker) KeepStatistics(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		tables, err := w.st.AnalyzeStale(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Warn("analyze", zap.Error(err))
		case len(tables) > 0:
			w.log.Debug("analyzed tables", zap.Strings("tables", tables), zap.Duration("duration", time.Since(start)))
		}
	}
}
