package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/zimport/zimport/tasks"
)

// TestFairness_SmallImportPassesAHugeOne: tenant A imports 20,000 orgs;
// tenant B's one-org import, submitted after, ends before A's import is 10 %
// done, and so does an instance creation; while A runs, the queue holds
// about a window of A's units, not one task per org. (Orders, not times.)
func TestFairness_SmallImportPassesAHugeOne(t *testing.T) {
	s := newStack(t)
	s.startWorker("w1")
	_, patA := s.createInstance("Tenant A")
	_, patB := s.createInstance("Tenant B")

	var b strings.Builder
	b.WriteString(`{"dataOrgs":{"orgs":[`)
	const orgs = 20_000
	for i := range orgs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"orgId":"a%d","org":{"name":"A %d"}}`, i, i)
	}
	b.WriteString(`]}}`)
	huge := s.submit(patA, []byte(b.String()))
	s.waitProgress(huge, patA, 0.001, 5*time.Minute) // split, and running

	inspector := asynq.NewInspector(asynq.RedisClientOpt{Addr: s.redis.Addr, DB: s.redis.DB})
	defer inspector.Close()
	queued := func() int {
		q, err := inspector.GetQueueInfo(tasks.Queue)
		if err != nil {
			t.Fatalf("queue info: %v", err)
		}
		return q.Pending + q.Active + q.Scheduled + q.Retry
	}
	most := queued()

	small := s.submit(patB, []byte(`{"dataOrgs":{"orgs":[{"orgId":"b1","org":{"name":"B"},
		"humanUsers":[{"userId":"u1","user":{"userName":"bee","profile":{"firstName":"B","lastName":"B"},"email":{"email":"b@example.com"}}}]}]}}`))
	code, body := s.do("POST", "/instances/_create", systemToken, []byte(`{"instanceName":"Tenant C","machine":{"userName":"importer","name":"Importer"}}`))
	if code != 202 {
		t.Fatalf("instance creation: %d %s", code, body)
	}
	instanceJob := jobID(t, body)

	// Watch until both ended, noting how far A had come at each end.
	var smallAt, instanceAt float64 = -1, -1
	deadline := time.Now().Add(5 * time.Minute)
	for (smallAt < 0 || instanceAt < 0) && time.Now().Before(deadline) {
		share := doneShare(s.job(huge, patA))
		if smallAt < 0 && s.job(small, patB)["status"] == "succeeded" {
			smallAt = share
		}
		if instanceAt < 0 && s.job(instanceJob, systemToken)["status"] == "succeeded" {
			instanceAt = share
		}
		most = max(most, queued())
		time.Sleep(20 * time.Millisecond)
	}
	if smallAt < 0 || instanceAt < 0 {
		t.Fatalf("B's import or the instance creation did not succeed: %v %v", s.job(small, patB), s.job(instanceJob, systemToken))
	}
	if smallAt >= 0.10 || instanceAt >= 0.10 {
		t.Errorf("A's import was %.1f %% done when B's import ended and %.1f %% when the instance was created; want both under 10 %%",
			smallAt*100, instanceAt*100)
	}
	for range 20 { // a while longer, while A runs
		most = max(most, queued())
		time.Sleep(50 * time.Millisecond)
	}
	// A window of 8 units, B's two tasks, and a task of a unit retried.
	if most > 12 {
		t.Errorf("the queue held %d tasks while a 20,000-org import ran; want about a window (8)", most)
	}
	if code, b := s.do("POST", "/jobs/"+huge+"/cancel", patA, nil); code != 200 {
		t.Errorf("cancel A: %d %s", code, b)
	}
}

// doneShare is the share of a job's units that are done.
func doneShare(job map[string]any) float64 {
	p, _ := job["progress"].(map[string]any)
	total, _ := p["unitsTotal"].(float64)
	done, _ := p["unitsDone"].(float64)
	if total == 0 {
		return 0
	}
	return done / total
}
