package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/instance"
	"github.com/zimport/zimport/source"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
)

const (
	// maxInstanceBody limits the body of POST /instances/_create.
	maxInstanceBody = 1 << 20
	// maxWait is the longest Prefer: wait a request may ask for.
	maxWait = 60 * time.Second
	// waitPoll is how often a waiting request looks at its job.
	waitPoll = 75 * time.Millisecond
	// enqueueTimeout bounds enqueuing a job's first task.
	enqueueTimeout = 5 * time.Second
	// maxIdempotencyKey is the longest Idempotency-Key accepted.
	maxIdempotencyKey = 255
)

// instanceRequest returns the caller of a request that acts on an
// instance (a system caller must name one) and its Idempotency-Key.
func instanceRequest(c echo.Context) (caller, string, error) {
	cl := callerOf(c)
	if cl.instanceID == "" {
		return cl, "", errInvalid("%s is required for system callers", headerInstanceID)
	}
	key, err := idempotencyKey(c)
	return cl, key, err
}

func (s *Server) postImport(c echo.Context) error {
	cl, key, err := instanceRequest(c)
	if err != nil {
		return err
	}
	body, release, err := s.readBody(c, s.cfg.MaxInlineBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{status: http.StatusRequestEntityTooLarge, code: codeResourceExhausted, msg: fmt.Sprintf(
				"request body is larger than the limit of %d bytes for inline data; import large data from a file with dataOrgsS3 or dataOrgsGcs",
				s.cfg.MaxInlineBytes)}
		}
		return err
	}
	defer release()
	req, err := importdata.ParseRequest(body, s.cfg.ChunkSize)
	if err != nil {
		var re *importdata.RequestError
		if errors.As(err, &re) {
			return err
		}
		s.log.Warn("import request rejected", zap.String("request_id", requestID(c)), zap.Error(err))
		return errInvalid("body is not a valid ImportDataRequest")
	}
	timeout, err := s.timeout(req.Timeout)
	if err != nil {
		return err
	}
	nj := store.NewJob{
		Kind:           store.KindImport,
		InstanceID:     cl.instanceID,
		Caller:         cl.name(),
		SourceField:    req.Field,
		OnConflict:     req.OnConflict,
		DryRun:         req.DryRun,
		Timeout:        timeout,
		Payload:        req.Inline,
		IdempotencyKey: key,
		MaxActive:      s.cfg.MaxActiveImports,
	}
	if req.File != nil {
		if nj.Source, nj.SourceSealed, err = s.fileSource(cl.instanceID, req.Field, req.File); err != nil {
			return err
		}
	}
	if key != "" {
		// Kept only with a key, and keyed: the body may hold passwords or
		// credentials, and a plain hash would let guesses of a weak one be
		// checked against it.
		nj.RequestHash = s.box.Digest(body)
	}
	return s.submit(c, nj, tasks.NewImportSplitTask, release)
}

// fileSource checks the input of a file data member (field) and returns
// the file's location and its credentials, sealed (nil without any). The
// file is not read here: only a local path is checked to resolve to a
// file inside the instance's import directory.
func (s *Server) fileSource(instanceID, field string, in *importdata.FileInput) (*source.Location, []byte, error) {
	loc := &source.Location{Kind: importdata.FileKind(field), Path: in.Path, Bucket: in.Bucket}
	var creds source.Credentials
	switch loc.Kind {
	case source.KindLocal:
		sub, err := s.cfg.Sources.LocalSubdir(instanceID)
		if err != nil {
			return nil, nil, errInvalid("%s.path: %s", field, err)
		}
		rel, err := source.LocalPath(filepath.Join(s.cfg.Sources.LocalDir, sub), in.Path)
		if err != nil {
			return nil, nil, errInvalid("%s.path: %s", field, err)
		}
		loc.Path, loc.Dir = rel, sub
		if err := source.CheckLocalIn(s.cfg.Sources, *loc); err != nil {
			var se *source.Error
			if errors.As(err, &se) {
				return nil, nil, errInvalid("%s.path: %s", field, se.Msg)
			}
			return nil, nil, fmt.Errorf("check local file: %w", err)
		}
		return loc, nil, nil
	case source.KindS3:
		if _, err := s.cfg.Sources.S3Endpoints.CheckEndpoint(in.Endpoint); err != nil {
			return nil, nil, errInvalid("%s.endpoint: %s", field, err)
		}
		loc.Endpoint, loc.SSL = source.CanonicalEndpoint(in.Endpoint), in.SSL
		if (in.AccessKeyID == "") != (in.SecretAccessKey == "") {
			return nil, nil, errInvalid("%s: give both accessKeyId and secretAccessKey, or neither to use the service's AWS credentials", field)
		}
		for name, key := range map[string]string{"accessKeyId": in.AccessKeyID, "secretAccessKey": in.SecretAccessKey} {
			if strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
				return nil, nil, errInvalid("%s.%s: must not contain spaces or control characters", field, name)
			}
		}
		creds.AccessKeyID, creds.SecretAccessKey = in.AccessKeyID, in.SecretAccessKey
	case source.KindGCS:
		if in.ServiceAccountJSON != "" {
			b, err := base64.StdEncoding.DecodeString(in.ServiceAccountJSON)
			if err != nil {
				return nil, nil, errInvalid("%s.serviceaccountJson: not valid base64 (standard encoding)", field)
			}
			if err := source.CheckServiceAccount(b); err != nil {
				return nil, nil, errInvalid("%s.serviceaccountJson %s", field, err)
			}
			creds.ServiceAccountJSON = b
		}
	}
	if loc.Bucket == "" {
		return nil, nil, errInvalid("%s.bucket is required", field)
	}
	if strings.ContainsRune(loc.Bucket, 0) || strings.ContainsRune(loc.Path, 0) {
		return nil, nil, errInvalid("%s: bucket and path must not contain the NUL character", field)
	}
	if loc.Path == "" {
		return nil, nil, errInvalid("%s.path is required", field)
	}
	if creds.AccessKeyID == "" && creds.ServiceAccountJSON == nil {
		return loc, nil, nil
	}
	loc.Keyed = true
	b, err := json.Marshal(creds)
	if err != nil {
		return nil, nil, fmt.Errorf("seal credentials: %w", err)
	}
	return loc, s.box.Seal(b), nil
}

func (s *Server) postInstance(c echo.Context) error {
	if err := requireSystem(c); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	body, release, err := s.readBody(c, maxInstanceBody)
	if err != nil {
		return err
	}
	defer release()
	if _, err := instance.ParseRequest(body, time.Now()); err != nil {
		var re *instance.RequestError
		if errors.As(err, &re) {
			return err
		}
		s.log.Warn("instance request rejected", zap.String("request_id", requestID(c)), zap.Error(err))
		return errInvalid("body is not a valid CreateInstanceRequest")
	}
	nj := store.NewJob{
		Kind:    store.KindCreateInstance,
		Caller:  "system",
		Timeout: s.cfg.DefaultTimeout,
		// The request may hold a password: it is stored only sealed.
		RequestSealed:  s.box.Seal(body),
		IdempotencyKey: key,
	}
	if key != "" {
		// Only with a key, and keyed, as for imports.
		nj.RequestHash = s.box.Digest(body)
	}
	return s.submit(c, nj, tasks.NewInstanceCreateTask, release)
}

// submit records a job, enqueues its first task and answers 202 with the
// job (200 for an Idempotency-Key replay), or 200 with the result when the
// client asked to wait (Prefer: wait=N) and the job ended in time. It calls
// release, which gives back the body's bytes, once the job is recorded.
func (s *Server) submit(c echo.Context, nj store.NewJob, task func(jobID string) *asynq.Task, release func()) error {
	ctx := c.Request().Context()
	j, created, err := s.st.CreateJob(ctx, nj)
	release()
	if errors.Is(err, store.ErrConflict) {
		return errKeyReused
	}
	if errors.Is(err, store.ErrTooMany) {
		c.Response().Header().Set("Retry-After", "10")
		return &apiError{status: http.StatusTooManyRequests, code: codeResourceExhausted, msg: fmt.Sprintf(
			"the instance has %d imports queued or running, the most it may have; submit again when one has ended", nj.MaxActive)}
	}
	if err != nil {
		return fmt.Errorf("create job: %w", err)
	}
	// A replayed job still queued is enqueued again, in case the first
	// request died before it could enqueue (the task ID makes it harmless).
	if created || j.Status == store.StatusQueued {
		if err := s.enqueue(ctx, task(j.ID)); err != nil {
			s.log.Error("enqueue job", zap.String("request_id", requestID(c)), zap.String("job_id", j.ID), zap.Error(err))
			if created {
				if err := s.st.DeleteJob(context.WithoutCancel(ctx), j.ID); err != nil {
					s.log.Error("delete job that was not enqueued", zap.String("job_id", j.ID), zap.Error(err))
				}
			}
			return errUnavailable("the job queue is unavailable; try again later")
		}
	}
	c.Response().Header().Set(echo.HeaderLocation, "/jobs/"+j.ID)
	if wait := preferWait(c.Request().Header.Values("Prefer")); wait > 0 {
		s.extendWrite(c, wait)
		j, err = s.waitJob(ctx, j, callerOf(c).scope(), wait)
		if err != nil {
			return err
		}
		if store.Terminal(j.Status) {
			if j.Kind == store.KindCreateInstance {
				return s.instanceResult(c, j)
			}
			return s.importResult(c, j)
		}
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	return s.writeJob(c, status, j)
}

// enqueue puts t on the queue; a task that is already there counts as enqueued.
// It goes on when the client goes away, so that a recorded job gets its task.
func (s *Server) enqueue(ctx context.Context, t *asynq.Task) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), enqueueTimeout)
	defer cancel()
	_, err := s.q.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// waitJob polls the job until it ends or d has passed.
func (s *Server) waitJob(ctx context.Context, j store.Job, sc store.Scope, d time.Duration) (store.Job, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for !store.Terminal(j.Status) {
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-timer.C:
			return j, nil
		case <-tick.C:
		}
		var err error
		if j, err = s.st.Job(ctx, j.ID, sc); err != nil {
			return j, fmt.Errorf("poll job: %w", err)
		}
	}
	return j, nil
}

// preferWait reads "Prefer: wait=N" (RFC 7240), at most 60 seconds; 0 when
// absent or malformed (a preference that is not understood is ignored).
func preferWait(values []string) time.Duration {
	for _, v := range values {
		for _, pref := range strings.Split(v, ",") {
			pref, _, _ = strings.Cut(pref, ";")
			name, val, ok := strings.Cut(pref, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err != nil || n <= 0 {
				continue
			}
			return min(time.Duration(n)*time.Second, maxWait)
		}
	}
	return 0
}

// timeout checks the request's timeout: empty is the default; it must be a
// positive Go duration no larger than the maximum.
func (s *Server) timeout(v string) (time.Duration, error) {
	if v == "" {
		return s.cfg.DefaultTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errInvalid("timeout: invalid duration %q", clip(v))
	}
	if d <= 0 {
		return 0, errInvalid("timeout: %q is not positive", clip(v))
	}
	if d > s.cfg.MaxTimeout {
		return 0, errInvalid("timeout: %q is above the maximum of %s", clip(v), s.cfg.MaxTimeout)
	}
	return d, nil
}

// clip shortens client input quoted in messages.
func clip(s string) string { return importdata.Clip(s) }

// idempotencyKey returns the Idempotency-Key header, "" when absent: UTF-8
// text without control characters, at most maxIdempotencyKey bytes.
func idempotencyKey(c echo.Context) (string, error) {
	k := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key"))
	if len(k) > maxIdempotencyKey {
		return "", errInvalid("Idempotency-Key is longer than %d bytes", maxIdempotencyKey)
	}
	if !printable(k, maxIdempotencyKey) {
		return "", errInvalid("Idempotency-Key must be UTF-8 text without control characters")
	}
	return k, nil
}

// readBody reads the whole request body, at most limit bytes; a larger
// body is an *http.MaxBytesError. The body must be JSON: its Content-Type
// application/json (in UTF-8) or none. application/x-www-form-urlencoded,
// which curl -d sends (as in the README), passes when the body starts like
// a JSON object. Anything else is 415. A body that may be large (over
// smallBody) first takes its size from the bytes the API may hold at once
// (Config.MaxBodyBytesInFlight), waiting up to bodyWait, else 503; release
// gives them back and must be called when the body is no longer used (more
// calls do nothing).
func (s *Server) readBody(c echo.Context, limit int64) (body []byte, release func(), err error) {
	r := c.Request()
	form, err := bodyType(r.Header.Get(echo.HeaderContentType))
	if err != nil {
		return nil, nil, err
	}
	if r.ContentLength > limit {
		return nil, nil, &http.MaxBytesError{Limit: limit}
	}
	release = func() {}
	if size := limit; size > smallBody {
		if r.ContentLength >= 0 {
			size = r.ContentLength
		}
		if size > smallBody {
			ctx, cancel := context.WithTimeout(r.Context(), s.bodyWait)
			defer cancel()
			if err := s.bodyBytes.Acquire(ctx, size); err != nil {
				c.Response().Header().Set("Retry-After", "5")
				return nil, nil, errBusyReading
			}
			release = sync.OnceFunc(func() { s.bodyBytes.Release(size) })
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(min(r.ContentLength, limit), 0)+1))
	_, err = buf.ReadFrom(http.MaxBytesReader(c.Response().Writer, r.Body, limit))
	if err != nil {
		release()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("read body: %w: %w", err, errBodyRead)
	}
	if form && !bytes.HasPrefix(bytes.TrimLeft(buf.Bytes(), " \t\r\n"), []byte("{")) {
		release()
		return nil, nil, errMediaType(r.Header.Get(echo.HeaderContentType))
	}
	s.extendWrite(c, 0) // the answer's time starts when the body is in
	return buf.Bytes(), release, nil
}

const (
	// smallBody is the largest body read without counting it against
	// Config.MaxBodyBytesInFlight.
	smallBody = 1 << 20
	// bodyWait is how long a large body waits for room.
	bodyWait = 10 * time.Second
)

// errBusyReading is the answer when large bodies fill the room for them.
var errBusyReading = &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable,
	msg: "the API is reading as many large request bodies as it may hold; retry later"}

// bodyType checks a Content-Type for readBody; form is true for
// application/x-www-form-urlencoded.
func bodyType(ct string) (form bool, err error) {
	if strings.TrimSpace(ct) == "" {
		return false, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mt == echo.MIMEApplicationJSON:
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return false, nil
		}
	case mt == echo.MIMEApplicationForm:
		return true, nil
	}
	return false, errMediaType(ct)
}

func errMediaType(ct string) error {
	return &apiError{status: http.StatusUnsupportedMediaType, code: codeInvalidArgument, msg: fmt.Sprintf("Content-Type %q is not supported; send JSON with Content-Type: application/json", clip(ct))}
}

// errBodyRead marks a body that could not be read: the client's problem.
var errBodyRead = &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, msg: "the request body could not be read"}
