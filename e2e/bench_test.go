package e2e

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkImport_Bulk measures an import end to end (HTTP submit, split,
// units on one worker process, result ready) of 10 orgs with 2,000 users
// each, a user grant per user, grants and members: about 40,000 entities.
// It reports entities per second.
func BenchmarkImport_Bulk(b *testing.B) {
	s := newStack(b, "ZIMPORT_LOG_LEVEL=warn")
	s.startWorker("bench")
	body := bulkImport(10, 2000)
	const entities = 10*2000*2 + 10*(1+1+1+1+1+40+1) // users, user grants, org, project, role, grant, cross grant, org members, project member
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	var total time.Duration
	for i := range b.N {
		_, pat := s.createInstance(fmt.Sprintf("Bench %d", i))
		start := time.Now()
		id := s.submit(pat, body)
		if job := s.waitJob(id, pat, 10*time.Minute); job["status"] != "succeeded" {
			b.Fatalf("job ended %v", job["status"])
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(entities*b.N)/total.Seconds(), "entities/s")
}
