package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// withOptions sets the timeout and onConflict of a bulkImport body.
func withOptions(body []byte, timeout, onConflict string) []byte {
	opts := `"timeout":"` + timeout + `"`
	if onConflict != "" {
		opts += `,"onConflict":"` + onConflict + `"`
	}
	return bytes.Replace(body, []byte(`"timeout":"30m"`), []byte(opts), 1)
}

// TestImport_TimeoutKeepsWorkAndSkipCompletes gives a large import a budget
// far too small: the job must end timed_out, keep and report what it did,
// and a re-submission with onConflict SKIP must complete the import.
func TestImport_TimeoutKeepsWorkAndSkipCompletes(t *testing.T) {
	s := newStack(t, "ZIMPORT_CHUNK_SIZE=20", "ZIMPORT_WORKER_CONCURRENCY=1")
	s.startWorker("worker")
	instanceID, pat := s.createInstance("Timeout")
	body := bulkImport(10, 1000)

	id := s.submit(pat, withOptions(body, "1s", ""))
	job := s.waitJob(id, pat, 2*time.Minute)
	if job["status"] != "timed_out" {
		t.Fatalf("status = %v, want timed_out", job["status"])
	}
	var res struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		Success struct {
			Orgs []struct {
				HumanUserIDs []string `json:"humanUserIds"`
			} `json:"orgs"`
		} `json:"success"`
	}
	if err := json.Unmarshal(s.result(id, pat), &res); err != nil {
		t.Fatal(err)
	}
	reported := 0
	for _, o := range res.Success.Orgs {
		reported += len(o.HumanUserIDs)
	}
	stored := s.query(`SELECT count(*) FROM users WHERE instance_id = $1 AND id LIKE 'org%'`, instanceID)[0][0]
	if res.Status != "timed_out" || !strings.Contains(res.Message, "not attempted") {
		t.Errorf("result status %q message %q, want timed_out and the entities not attempted", res.Status, res.Message)
	}
	if reported == 0 || reported == 10000 || stored != strconv.Itoa(reported) {
		t.Errorf("timed-out job reports %d users and stored %s; want some but not all, and the same number", reported, stored)
	}

	again := s.submit(pat, withOptions(body, "10m", "SKIP"))
	if job := s.waitJob(again, pat, 5*time.Minute); job["status"] != "succeeded" {
		t.Fatalf("SKIP re-run ended %v: %v", job["status"], job)
	}
	if got := s.query(`SELECT count(*) FROM users WHERE instance_id = $1 AND id LIKE 'org%'`, instanceID)[0][0]; got != "10000" {
		t.Errorf("users after the SKIP re-run = %s, want 10000", got)
	}
	if got := s.query(`SELECT count(*) FROM user_grants WHERE instance_id = $1`, instanceID)[0][0]; got != "10010" {
		t.Errorf("user grants after the SKIP re-run = %s, want 10010", got)
	}
}

// TestImport_Cancel cancels a running job: it ends canceled and its
// remaining units do nothing.
func TestImport_Cancel(t *testing.T) {
	s := newStack(t, "ZIMPORT_CHUNK_SIZE=20", "ZIMPORT_WORKER_CONCURRENCY=1")
	s.startWorker("worker")
	_, pat := s.createInstance("Cancel")
	id := s.submit(pat, bulkImport(10, 1000))
	s.waitProgress(id, pat, 0.05, time.Minute)

	code, b := s.do("POST", "/jobs/"+id+"/cancel", pat, nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"status":"canceled"`) {
		t.Fatalf("cancel = %d %s", code, b)
	}
	atCancel := unitsDone(s.job(id, pat))
	// The unit in flight may still commit; nothing after it may run.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		j := s.job(id, pat)
		if j["status"] != "canceled" {
			t.Fatalf("status after cancel = %v", j["status"])
		}
		if done := unitsDone(j); done > atCancel+1 {
			t.Fatalf("%v units done after cancel, %v at cancel: units kept running", done, atCancel)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, b := s.do("POST", "/jobs/"+id+"/cancel", pat, nil); code != http.StatusOK || !strings.Contains(string(b), `"status":"canceled"`) {
		t.Errorf("second cancel = %d %s, want the canceled job", code, b)
	}
}

func unitsDone(job map[string]any) float64 {
	p, _ := job["progress"].(map[string]any)
	done, _ := p["unitsDone"].(float64)
	return done
}

// TestImport_LostTasksAreReconciled loses every queued task (as a Redis
// restart without persistence would) before a worker runs: the workers'
// reconciler must enqueue the work again and the job must finish.
func TestImport_LostTasksAreReconciled(t *testing.T) {
	s := newStack(t, "ZIMPORT_RECONCILE_INTERVAL=1s")
	s.startWorker("first")
	_, pat := s.createInstance("Lost")
	s.stopWorker("first")

	id := s.submit(pat, bulkImport(3, 50))
	s.flushRedis()
	s.startWorker("second")
	if job := s.waitJob(id, pat, 2*time.Minute); job["status"] != "succeeded" {
		t.Fatalf("job ended %v after its tasks were lost: %v", job["status"], job)
	}
}
