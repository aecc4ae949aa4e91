package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zimport/zimport/store"
)

// jobView is the JSON of a job (GET /jobs/{id} and the POST answers).
type jobView struct {
	JobID      string `json:"jobId"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	CreatedAt  string `json:"createdAt,omitempty"`
	StartedAt  string `json:"startedAt,omitempty"`
	FinishedAt string `json:"finishedAt,omitempty"`
	Deadline   string `json:"deadline,omitempty"`
	Timeout    string `json:"timeout,omitempty"`
	OnConflict string `json:"onConflict,omitempty"`
	DryRun     bool   `json:"dryRun,omitempty"`
	// Source names an import file without its credentials
	// (local:PATH, s3://BUCKET/PATH@ENDPOINT, gs://BUCKET/PATH).
	Source   string        `json:"source,omitempty"`
	Progress *progressView `json:"progress,omitempty"`
	Error    string        `json:"error,omitempty"`
}

type progressView struct {
	Kinds      map[string]kindView `json:"kinds,omitempty"`
	UnitsTotal int                 `json:"unitsTotal,omitempty"`
	UnitsDone  int                 `json:"unitsDone,omitempty"`
	// BytesTotal is a 64-bit integer: a string in proto3 JSON.
	BytesTotal int64   `json:"bytesTotal,omitempty,string"`
	Percent    float64 `json:"percent,omitempty"`
}

type kindView struct {
	Total   int `json:"total,omitempty"`
	Done    int `json:"done,omitempty"`
	Failed  int `json:"failed,omitempty"`
	Skipped int `json:"skipped,omitempty"`
	// Overwritten counts existing entities updated in place (onConflict OVERWRITE).
	Overwritten int `json:"overwritten,omitempty"`
}

// timestamp formats t as proto3 JSON does (google.protobuf.Timestamp): UTC
// with 0, 3, 6 or 9 fractional digits.
func timestamp(t time.Time) string {
	t = t.UTC()
	switch ns := t.Nanosecond(); {
	case ns == 0:
		return t.Format("2006-01-02T15:04:05Z")
	case ns%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

func optTimestamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return timestamp(*t)
}

// view renders a job with its progress.
func view(j store.Job, p store.Progress) jobView {
	v := jobView{
		JobID:      j.ID,
		Kind:       j.Kind,
		Status:     j.Status,
		CreatedAt:  timestamp(j.CreatedAt),
		StartedAt:  optTimestamp(j.StartedAt),
		FinishedAt: optTimestamp(j.FinishedAt),
		Deadline:   optTimestamp(j.Deadline),
		Error:      j.Error,
		OnConflict: j.OnConflict,
		DryRun:     j.DryRun,
	}
	if j.Timeout > 0 {
		v.Timeout = j.Timeout.String()
	}
	if j.Source != nil {
		v.Source = j.Source.String()
	}
	pv := &progressView{UnitsTotal: p.UnitsTotal, UnitsDone: p.UnitsDone, BytesTotal: p.BytesTotal, Percent: p.Percent}
	if len(p.Kinds) > 0 {
		pv.Kinds = make(map[string]kindView, len(p.Kinds))
		for k, kp := range p.Kinds {
			pv.Kinds[k] = kindView(kp)
		}
	}
	if pv.Kinds != nil || pv.UnitsTotal != 0 || pv.BytesTotal != 0 || pv.Percent != 0 {
		v.Progress = pv
	}
	return v
}

// job loads the job of the :id path parameter in the caller's scope; a job
// of another instance is not found, exactly like an unknown id.
func (s *Server) job(c echo.Context) (store.Job, error) {
	j, err := s.st.Job(c.Request().Context(), c.Param("id"), callerOf(c).scope())
	if errors.Is(err, store.ErrNotFound) {
		return j, errJobNotFound
	}
	if err != nil {
		return j, fmt.Errorf("load job: %w", err)
	}
	return j, nil
}

func (s *Server) writeJob(c echo.Context, status int, j store.Job) error {
	p, err := s.st.Progress(c.Request().Context(), j.ID)
	if err != nil {
		return fmt.Errorf("progress of job %s: %w", j.ID, err)
	}
	return c.JSON(status, view(j, p))
}

func (s *Server) getJob(c echo.Context) error {
	j, err := s.job(c)
	if err != nil {
		return err
	}
	return s.writeJob(c, http.StatusOK, j)
}

func (s *Server) cancelJob(c echo.Context) error {
	j, err := s.st.CancelJob(c.Request().Context(), c.Param("id"), callerOf(c).scope())
	if errors.Is(err, store.ErrNotFound) {
		return errJobNotFound
	}
	if err != nil {
		return fmt.Errorf("cancel job: %w", err)
	}
	return s.writeJob(c, http.StatusOK, j)
}

// pageLimit reads ?limit=, 0 when absent.
func pageLimit(c echo.Context, max int) (int, error) {
	l := c.QueryParam("limit")
	if l == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > max {
		return 0, errInvalid("limit: %q is not an integer between 1 and %d", l, max)
	}
	return n, nil
}

type jobList struct {
	Jobs       []jobView `json:"jobs"`
	NextCursor string    `json:"nextCursor,omitempty"`
}

func (s *Server) listJobs(c echo.Context) error {
	limit, err := pageLimit(c, 500)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cursor := c.QueryParam("cursor")
	page, err := s.st.ListJobs(ctx, callerOf(c).scope(), cursor, limit)
	if errors.Is(err, store.ErrNotFound) {
		return errInvalid("cursor: %q is not a cursor of this list", cursor)
	}
	if err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	ids := make([]string, len(page.Jobs))
	for i, j := range page.Jobs {
		ids[i] = j.ID
	}
	progress, err := s.st.Progresses(ctx, ids)
	if err != nil {
		return err
	}
	out := jobList{Jobs: make([]jobView, 0, len(page.Jobs)), NextCursor: page.Next}
	for _, j := range page.Jobs {
		out.Jobs = append(out.Jobs, view(j, progress[j.ID]))
	}
	return c.JSON(http.StatusOK, out)
}

type errorList struct {
	Errors     []store.EntityError `json:"errors"`
	NextCursor string              `json:"nextCursor,omitempty"`
}

func (s *Server) getErrors(c echo.Context) error {
	limit, err := pageLimit(c, 1000)
	if err != nil {
		return err
	}
	j, err := s.job(c)
	if err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	page, err := s.st.Errors(c.Request().Context(), j.ID, cursor, limit)
	if errors.Is(err, store.ErrInvalid) {
		return errInvalid("cursor: %q is not a cursor of this list", cursor)
	}
	if err != nil {
		return fmt.Errorf("list errors: %w", err)
	}
	if page.Errors == nil {
		page.Errors = []store.EntityError{}
	}
	return c.JSON(http.StatusOK, errorList{Errors: page.Errors, NextCursor: page.Next})
}

// getResult streams an import's result (JSON, or NDJSON with
// ?format=ndjson), or answers an instance job's CreateInstanceResponse.
func (s *Server) getResult(c echo.Context) error {
	j, err := s.job(c)
	if err != nil {
		return err
	}
	if j.Kind == store.KindCreateInstance {
		return s.instanceResult(c, j)
	}
	switch f := c.QueryParam("format"); f {
	case "", "json":
		return s.importResult(c, j)
	case "ndjson":
		c.Response().Header().Set(echo.HeaderContentType, "application/x-ndjson")
		return s.st.WriteResultNDJSON(c.Request().Context(), streamWriter{s, c}, j)
	default:
		return errInvalid("format: %q is not one of json, ndjson", f)
	}
}

// importResult streams the result of an import as JSON. The answer is
// committed with its first byte, so a database error before it is still a
// proper error answer.
func (s *Server) importResult(c echo.Context, j store.Job) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	return s.st.WriteResult(c.Request().Context(), streamWriter{s, c}, j)
}

// resultStatus is the result of a job that has none (yet).
type resultStatus struct {
	JobID   string `json:"jobId"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// instanceResult answers the CreateInstanceResponse of a succeeded instance
// job with its jobId, else the job's status.
func (s *Server) instanceResult(c echo.Context, j store.Job) error {
	if j.Status != store.StatusSucceeded {
		return c.JSON(http.StatusOK, resultStatus{JobID: j.ID, Status: j.Status, Message: j.Error})
	}
	sealed, err := s.st.JobResultSealed(c.Request().Context(), j.ID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("job %s succeeded without a result", j.ID) // ours, not the client's: 500
	}
	if err != nil {
		return fmt.Errorf("load result of job %s: %w", j.ID, err)
	}
	plain, err := s.box.Open(sealed)
	if err != nil {
		return fmt.Errorf("open result of job %s: %w", j.ID, err)
	}
	body, err := withJobID(plain, j.ID)
	if err != nil {
		return fmt.Errorf("result of job %s: %w", j.ID, err)
	}
	return c.JSONBlob(http.StatusOK, body)
}

// withJobID inserts "jobId" as the first member of a JSON object, keeping the
// order of the others.
func withJobID(obj []byte, jobID string) ([]byte, error) {
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, errors.New("stored result is not a JSON object")
	}
	rest := bytes.TrimSpace(obj[1:])
	out := make([]byte, 0, len(obj)+64)
	out = append(out, `{"jobId":`...)
	out = strconv.AppendQuote(out, jobID) // a UUID: plain ASCII
	if rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...), nil
}
