package worker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/zimport/zimport/gen"
	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/source"
	"github.com/zimport/zimport/store"
)

// Sizes of BenchmarkSplit_LocalFile, in MB (10^6 bytes, as the MB/s metric).
const (
	// benchSplitMB is the default file size, ZIMPORT_BENCH_SPLIT_MB.
	benchSplitMB = 256
	// benchOrgMB is the size of one org of the file.
	benchOrgMB = 50
)

// BenchmarkSplit_LocalFile measures the split of a local import file
// without the database: what saveSplit does with a file (open it, pin its
// version, stream it through ScanOrgs with ChunkSize 1000 and Defines, plan
// each org's units), except that the ids the orgs define and the values they
// claim are counted instead of being copied to the database. The file, generated before the
// timer starts, has ZIMPORT_BENCH_SPLIT_MB MB (default 256) in orgs of
// about 50 MB. It reports MB/s, the process's CPU seconds (cpu-s/op), the
// numbers of units and of ids and claims, the process's peak RSS (peak-RSS-MiB; on Linux
// from the start of the split) and the heap in use after a GC with the
// units still held (heap-inuse-MiB). Run each size in its own process, so
// that the peak RSS is that size's:
//
//	ZIMPORT_BENCH_SPLIT_MB=1024 go test ./worker/ -run '^$' -bench Split_LocalFile -benchtime 1x
func BenchmarkSplit_LocalFile(b *testing.B) {
	mb := benchSplitMB
	if s := os.Getenv("ZIMPORT_BENCH_SPLIT_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("ZIMPORT_BENCH_SPLIT_MB: %q is not a positive number of MB", s)
		}
		mb = n
	}
	dir := b.TempDir()
	const name = "import.json"
	size := writeBenchFile(b, filepath.Join(dir, name), int64(mb)*1e6)
	// The peak is the split's: the generator's garbage is returned to the
	// system and, on Linux, the process's peak RSS reset to its RSS now.
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS not reset, it includes the generation: %v", err)
	}
	b.Logf("generated %d bytes; peak RSS from here %.0f MiB", size, peakRSSMiB(b))

	ctx := context.Background()
	var units []store.Unit
	var ids int
	cpu0 := cpuTime(b)
	start := time.Now()
	for b.Loop() {
		var err error
		if units, ids, err = splitLocalFile(ctx, dir, name); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(size)*float64(b.N)/1e6/elapsed.Seconds(), "MB/s")
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(units)), "units")
	b.ReportMetric(float64(ids), "ids")
	b.ReportMetric(peakRSSMiB(b), "peak-RSS-MiB")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
	runtime.KeepAlive(units)
}

// splitLocalFile does what saveSplit does with the local file name of dir,
// without the database: it returns the units of the file and the number of
// ids its orgs define and values they claim.
func splitLocalFile(ctx context.Context, dir, name string) ([]store.Unit, int, error) {
	obj, err := source.Open(ctx, source.Config{LocalDir: dir}, source.Location{Kind: source.KindLocal, Path: name}, source.Credentials{})
	if err != nil {
		return nil, 0, err
	}
	defer obj.Close()
	v, err := source.Pin(ctx, obj)
	if err != nil {
		return nil, 0, err
	}
	r := source.NewReader(ctx, obj, v)
	defer r.Close()
	// saveSplit sends the ids the orgs define and the values they claim to
	// the database (store.SplitTables); here they are only counted.
	ids := 0
	opts := importdata.ScanOptions{ChunkSize: 1000, Defines: true, Define: func(importdata.Definition) error {
		ids++
		return nil
	}, Claim: func(importdata.Claim) error {
		ids++
		return nil
	}}
	steps := store.Steps()
	var orgs []store.SplitOrg
	var orgStarts []int64
	var units []store.Unit
	totals := map[string]int{}
	err = importdata.ScanOrgs(r, opts, func(org importdata.OrgLayout) error {
		orgs = append(orgs, store.SplitOrg{Index: org.Index, OrgID: org.OrgID})
		orgStarts = append(orgStarts, org.Start)
		units = append(units, planUnits("bench", org, steps, totals, opts.V1)...)
		return ctx.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("split %s: %w", name, err)
	}
	return units, ids, nil
}

// benchOptions are the generator options of the benchmark's file, with
// users users per org.
func benchOptions(orgs, users int) gen.Options {
	return gen.Options{Orgs: orgs, Users: users, Grants: true, Metadata: 0.5, Members: 0.25, Seed: 1}
}

// writeBenchFile generates an import file of about size bytes at path, in
// orgs of about benchOrgMB, and returns its size.
func writeBenchFile(tb testing.TB, path string, size int64) int64 {
	tb.Helper()
	// Measure a user's bytes (with its grant, metadata and membership) on a
	// small file to pick the users per org.
	const sample = 10_000
	var cw countingWriter
	if err := gen.Write(&cw, benchOptions(1, sample)); err != nil {
		tb.Fatal(err)
	}
	perUser := max(1, cw.n/sample)
	orgs := max(1, size/(benchOrgMB*1e6))
	users := max(1, size/orgs/perUser)

	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := gen.Write(f, benchOptions(int(orgs), int(users))); err != nil {
		tb.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%d orgs of %d users, about %d bytes a user", orgs, users, perUser)
	return fi.Size()
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// peakRSSMiB returns the process's peak resident set size in MiB.
func peakRSSMiB(tb testing.TB) float64 {
	tb.Helper()
	return float64(rusage(tb).Maxrss) / 1024 // kilobytes on Linux
}

// cpuTime returns the CPU time the process has used, user and system, on
// all its threads (GC included): unlike MB/s, it hardly depends on what
// else the machine runs.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	ru := rusage(tb)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rusage(tb testing.TB) syscall.Rusage {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return ru
}
