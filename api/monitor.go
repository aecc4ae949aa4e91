package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/zimport/zimport/store"
)

// monitorRoot is where the asynqmon dashboard is served.
const monitorRoot = "/monitoring"

// newMonitor returns the asynqmon dashboard, read-only unless writable.
// Payloads and results are redacted to the task type and the job id:
// whatever else a payload may hold in the future never reaches a browser.
func newMonitor(opt asynq.RedisConnOpt, writable bool) (h *asynqmon.HTTPHandler, err error) {
	defer func() {
		if r := recover(); r != nil { // asynqmon.New panics on unsupported options
			err = fmt.Errorf("api: asynqmon: %v", r)
		}
	}()
	return asynqmon.New(asynqmon.Options{
		RootPath:         monitorRoot,
		RedisConnOpt:     opt,
		ReadOnly:         !writable,
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

// crossSite reports whether a request comes from another site than the
// dashboard's, by the headers browsers send with every unsafe request:
// Sec-Fetch-Site, else Origin. A request without either (curl, scripts)
// is no cross-site request.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

// safeMethod reports whether a method only reads.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
