package api

import (
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/zimport/zimport/store"
)

// monitorRoot is where the asynqmon dashboard is served.
const monitorRoot = "/monitoring"

// newMonitor returns the asynqmon dashboard. Payloads and results are
// redacted to the task type and the job id: whatever else a payload may hold
// in the future never reaches a browser.
func newMonitor(opt asynq.RedisConnOpt) (h *asynqmon.HTTPHandler, err error) {
	defer func() {
		if r := recover(); r != nil { // asynqmon.New panics on unsupported options
			err = fmt.Errorf("api: asynqmon: %v", r)
		}
	}()
	return asynqmon.New(asynqmon.Options{
		RootPath:         monitorRoot,
		RedisConnOpt:     opt,
		ReadOnly:         false,
		PayloadFormatter: asynqmon.PayloadFormatterFunc(redact),
		ResultFormatter:  asynqmon.ResultFormatterFunc(redact),
	}), nil
}

// redact shows a task's type and job id only.
func redact(taskType string, data []byte) string {
	var p struct {
		JobID string `json:"jobId"`
	}
	if json.Unmarshal(data, &p) != nil || !store.ValidJobID(p.JobID) {
		return taskType + " (redacted)"
	}
	return taskType + " jobId=" + p.JobID
}
