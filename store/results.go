package store

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"
)

// successOrder is ZITADEL's ImportDataSuccessOrg field order (proto field
// numbers 1 to 22). Lists are rendered in this order; a list a step names
// that is not here (zimport's own, e.g. passwordlessLinks) comes after them.
var successOrder = []string{
	"orgId", "projectIds", "projectRoles", "oidcAppIds", "apiAppIds", "humanUserIds", "machineUserIds",
	"actionIds", "triggerActions", "projectGrants", "userGrants", "orgMembers", "projectMembers",
	"projectGrantMembers", "oidcIpds", "jwtIdps", "idpLinks", "userLinks", "userMetadata", "domains",
	"appKeys", "machineKeys",
}

// successStep is how the successes of one step are rendered.
type successStep struct {
	list string
	// keys name the members of an object entry, from f1..f4; nil for plain
	// string entries. A key ending in "[]" marks a member whose f-value is a
	// JSON array, written as it is (e.g. "actionIds[]" of triggerActions).
	keys []string
}

// successPlan maps step numbers to their lists and gives the step numbers in
// rendering order: by the list's rank in successOrder, then by step number.
// Steps without a success list (and the org step, whose entry is the org
// itself) are left out.
type successPlan struct {
	order   []int32
	steps   map[int]successStep
	orgStep int
}

// newSuccessPlan makes the plan of steps (Steps() in production).
func newSuccessPlan(steps []Step) successPlan {
	rank := make(map[string]int, len(successOrder))
	for i, l := range successOrder {
		rank[l] = i
	}
	type ranked struct {
		rank, number int
	}
	var rs []ranked
	p := successPlan{order: []int32{}, steps: map[int]successStep{}, orgStep: -1}
	for _, st := range steps {
		if st.Name == "org" {
			p.orgStep = st.number()
		}
		if st.Success == "" || st.Success == "orgId" {
			continue
		}
		r, ok := rank[st.Success]
		if !ok {
			// Unknown lists follow ZITADEL's, each in the order of its first step.
			r = len(successOrder) + st.number()
			rank[st.Success] = r
		}
		rs = append(rs, ranked{r, st.number()})
		p.steps[st.number()] = successStep{list: st.Success, keys: st.SuccessKeys}
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].rank != rs[j].rank {
			return rs[i].rank < rs[j].rank
		}
		return rs[i].number < rs[j].number
	})
	for _, r := range rs {
		p.order = append(p.order, int32(r.number))
	}
	return p
}

// EntityError is an entity that could not be imported, as ZITADEL's ImportDataError.
type EntityError struct {
	Type    string `json:"type,omitempty"`
	ID      string `json:"id,omitempty"`
	Message string `json:"message,omitempty"`
}

// ErrorPage is a page of Errors.
type ErrorPage struct {
	Errors []EntityError
	// Next is the cursor of the next page, empty on the last page.
	Next string
}

// KindProgress counts the entities of one kind (a step name, e.g. "human_users").
type KindProgress struct {
	// Total is the number of entities of the kind in the source, known after the split.
	Total int
	// Done, Failed, Skipped and Overwritten count the entities of units
	// that have finished; Done counts the created ones.
	Done, Failed, Skipped, Overwritten int
}

// Progress is how far a job is.
type Progress struct {
	// Kinds is the progress of each entity kind, by step name.
	Kinds map[string]KindProgress
	// UnitsTotal and UnitsDone count the job's units of work.
	UnitsTotal, UnitsDone int
	// BytesTotal is the size of the source in bytes, 0 when unknown.
	BytesTotal int64
	// Percent is UnitsDone / UnitsTotal * 100, and 100 once the job has
	// completed (a job that timed out, failed or was canceled keeps its share).
	Percent float64
}

// NotAttempted is the number of counted entities that have no outcome.
func (p Progress) NotAttempted() int {
	n := 0
	for _, k := range p.Kinds {
		n += max(k.Total-k.Done-k.Failed-k.Skipped-k.Overwritten, 0)
	}
	return n
}

// Progress returns the progress of job jobID, or ErrNotFound. It does not
// check the caller's scope: load the job with Job first.
func (s *Store) Progress(ctx context.Context, jobID string) (Progress, error) {
	if !ValidJobID(jobID) {
		return Progress{}, ErrNotFound
	}
	return progress(ctx, s.pool, jobID)
}

// Progresses returns the progress of each of the jobs jobIDs that exists, by
// id, with one query: for a page of a job list. Like Progress, it does not
// check the caller's scope.
func (s *Store) Progresses(ctx context.Context, jobIDs []string) (map[string]Progress, error) {
	valid := make([]string, 0, len(jobIDs))
	for _, id := range jobIDs {
		if ValidJobID(id) {
			valid = append(valid, id)
		}
	}
	rows, err := s.pool.Query(ctx, progressSQL, valid)
	if err != nil {
		return nil, fmt.Errorf("progress of jobs: %w", err)
	}
	defer rows.Close()
	out := make(map[string]Progress, len(valid))
	for rows.Next() {
		id, p, err := scanProgress(rows)
		if err != nil {
			return nil, fmt.Errorf("progress of jobs: %w", err)
		}
		out[id] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("progress of jobs: %w", err)
	}
	return out, nil
}

// progressSQL reads the progress of the jobs whose ids are in $1.
const progressSQL = `
	SELECT j.id::text, j.status, j.totals, coalesce(j.source_size, 0),
		(SELECT count(*) FROM job_units u WHERE u.job_id = j.id),
		(SELECT count(*) FROM job_units u WHERE u.job_id = j.id AND u.done),
		(SELECT coalesce(jsonb_object_agg(c.key, jsonb_build_object('done', c.done, 'failed', c.failed, 'skipped', c.skipped,
				'overwritten', c.overwritten)), '{}')
			FROM (SELECT e.key,
					sum(coalesce((e.value->>'done')::int, 0)) AS done,
					sum(coalesce((e.value->>'failed')::int, 0)) AS failed,
					sum(coalesce((e.value->>'skipped')::int, 0)) AS skipped,
					sum(coalesce((e.value->>'overwritten')::int, 0)) AS overwritten
				FROM job_units u, jsonb_each(u.counts) e
				WHERE u.job_id = j.id
				GROUP BY e.key) c)
	FROM jobs j WHERE j.id = ANY($1::uuid[])`

func progress(ctx context.Context, q querier, jobID string) (Progress, error) {
	_, p, err := scanProgress(q.QueryRow(ctx, progressSQL, []string{jobID}))
	if errors.Is(err, pgx.ErrNoRows) {
		return Progress{}, ErrNotFound
	}
	if err != nil {
		return Progress{}, fmt.Errorf("progress of job %s: %w", jobID, err)
	}
	return p, nil
}

// scanProgress reads a row of progressSQL.
func scanProgress(row pgx.Row) (string, Progress, error) {
	var (
		id     string
		p      Progress
		status string
		totals map[string]int
		counts map[string]Counts
	)
	if err := row.Scan(&id, &status, &totals, &p.BytesTotal, &p.UnitsTotal, &p.UnitsDone, &counts); err != nil {
		return "", Progress{}, err
	}
	p.Kinds = make(map[string]KindProgress, len(totals))
	for k, n := range totals {
		p.Kinds[k] = KindProgress{Total: n}
	}
	for k, c := range counts {
		kp := p.Kinds[k]
		kp.Done, kp.Failed, kp.Skipped, kp.Overwritten = c.Done, c.Failed, c.Skipped, c.Overwritten
		p.Kinds[k] = kp
	}
	switch {
	case status == StatusSucceeded || status == StatusCompletedWithErrors:
		p.Percent = 100
	case p.UnitsTotal > 0:
		p.Percent = math.Floor(float64(p.UnitsDone)/float64(p.UnitsTotal)*1000) / 10
	}
	return id, p, nil
}

// Errors returns a page of a job's entity errors in result order (pass, org,
// step, item). cursor is empty for the first page, else a previous page's
// Next; a malformed cursor is ErrInvalid. limit is 1 to 1000, default 100.
// It does not check the caller's scope: load the job with Job first.
func (s *Store) Errors(ctx context.Context, jobID string, cursor string, limit int) (ErrorPage, error) {
	if !ValidJobID(jobID) {
		return ErrorPage{}, ErrNotFound
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var after [5]int64
	where := ""
	args := []any{jobID, limit + 1}
	if cursor != "" {
		var err error
		if after, err = decodeErrorCursor(cursor); err != nil {
			return ErrorPage{}, err
		}
		where = ` AND (pass, org_index, step, item, sub) > ($3, $4, $5, $6, $7)`
		args = append(args, after[0], after[1], after[2], after[3], after[4])
	}
	rows, err := s.pool.Query(ctx, `SELECT pass, org_index, step, item, sub, type, id, coalesce(message, '')
		FROM job_results WHERE job_id = $1 AND outcome = 'error'`+where+`
		ORDER BY pass, org_index, step, item, sub LIMIT $2`, args...)
	if err != nil {
		return ErrorPage{}, fmt.Errorf("list errors of job %s: %w", jobID, err)
	}
	defer rows.Close()
	var page ErrorPage
	var key [5]int64
	for rows.Next() {
		if len(page.Errors) == limit {
			page.Next = encodeErrorCursor(key)
			break
		}
		var e EntityError
		if err := rows.Scan(&key[0], &key[1], &key[2], &key[3], &key[4], &e.Type, &e.ID, &e.Message); err != nil {
			return ErrorPage{}, fmt.Errorf("list errors of job %s: %w", jobID, err)
		}
		page.Errors = append(page.Errors, e)
	}
	if err := rows.Err(); err != nil {
		return ErrorPage{}, fmt.Errorf("list errors of job %s: %w", jobID, err)
	}
	return page, nil
}

// cursorPrefix versions the error cursor format.
const cursorPrefix = "e1."

func encodeErrorCursor(k [5]int64) string {
	var b strings.Builder
	b.WriteString(cursorPrefix)
	for i, v := range k {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

func decodeErrorCursor(c string) ([5]int64, error) {
	var k [5]int64
	bad := fmt.Errorf("cursor %q is not a cursor of this list: %w", c, ErrInvalid)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return k, bad
	}
	parts := strings.Split(strings.TrimPrefix(string(raw), cursorPrefix), ".")
	if len(parts) != len(k) {
		return k, bad
	}
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 32)
		if err != nil || v < 0 {
			return k, bad
		}
		k[i] = v
	}
	return k, nil
}

// resultFormat is how WriteResult frames its parts.
type resultFormat int

const (
	formatJSON resultFormat = iota
	formatNDJSON
)

// WriteResult writes the result of an import job to w as ZITADEL's
// ImportDataResponse plus zimport's fields:
//
//	{"jobId", "status", "message"?, "errors": [{type, id, message}],
//	 "success": {"orgs": [ImportDataSuccessOrg]}, "skipped": [{type, id}],
//	 "overwritten": [{type, id}]}
//
// An overwritten entity (onConflict OVERWRITE) is also in its success list.
//
// Errors are in import order (pass, org, kind, item); success orgs in input
// order with their lists in proto field order. Empty lists are left out. The
// result is streamed from the database as it is written, never held whole.
// job must have been loaded (and scoped) by the caller.
func (s *Store) WriteResult(ctx context.Context, w io.Writer, job Job) error {
	return s.writeResult(ctx, w, job, formatJSON, newSuccessPlan(Steps()))
}

// WriteResultNDJSON writes the result of an import job to w as
// newline-delimited JSON: one {"error": {type, id, message}} line per error,
// one {"org": ImportDataSuccessOrg} line per org, one {"skipped": {type, id}}
// line per skipped entity, one {"overwritten": {type, id}} line per
// overwritten entity, and a last line {"jobId", "status", "message"?}.
func (s *Store) WriteResultNDJSON(ctx context.Context, w io.Writer, job Job) error {
	return s.writeResult(ctx, w, job, formatNDJSON, newSuccessPlan(Steps()))
}

func (s *Store) writeResult(ctx context.Context, w io.Writer, job Job, format resultFormat, plan successPlan) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("result of job %s: %w", job.ID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	msg, err := resultMessage(ctx, tx, job)
	if err != nil {
		return err
	}
	rw := &resultWriter{w: bufio.NewWriterSize(w, 32<<10), format: format}
	if format == formatJSON {
		rw.buf = append(rw.buf, `{"jobId":`...)
		rw.str(job.ID)
		rw.buf = append(rw.buf, `,"status":`...)
		rw.str(job.Status)
		if msg != "" {
			rw.buf = append(rw.buf, `,"message":`...)
			rw.str(msg)
		}
	}
	if err := rw.errors(ctx, tx, job.ID); err != nil {
		return err
	}
	if err := rw.success(ctx, tx, job.ID, plan); err != nil {
		return err
	}
	for _, outcome := range []string{outcomeSkipped, outcomeOverwritten} {
		if err := rw.entities(ctx, tx, job.ID, outcome); err != nil {
			return err
		}
	}
	if format == formatJSON {
		rw.buf = append(rw.buf, "}\n"...)
	} else {
		rw.buf = append(rw.buf, `{"jobId":`...)
		rw.str(job.ID)
		rw.buf = append(rw.buf, `,"status":`...)
		rw.str(job.Status)
		if msg != "" {
			rw.buf = append(rw.buf, `,"message":`...)
			rw.str(msg)
		}
		rw.buf = append(rw.buf, "}\n"...)
	}
	if err := rw.flush(); err != nil {
		return err
	}
	return rw.w.Flush()
}

// resultMessage says why a job ended without a complete result.
func resultMessage(ctx context.Context, q querier, job Job) (string, error) {
	switch job.Status {
	case StatusFailed:
		return job.Error, nil
	case StatusTimedOut, StatusCanceled:
		p, err := progress(ctx, q, job.ID)
		if err != nil {
			return "", err
		}
		what := fmt.Sprintf("deadline of %s exceeded", job.Timeout)
		if job.Status == StatusCanceled {
			what = "job was canceled"
		}
		if job.Stage == 0 {
			// Ended before the split recorded its units: nothing is counted.
			return what + " before the data was split; nothing was imported", nil
		}
		return fmt.Sprintf("%s; %d entities not attempted", what, p.NotAttempted()), nil
	}
	return "", nil
}

// resultWriter renders result rows into buf and hands buf to w row by row.
type resultWriter struct {
	w      *bufio.Writer
	format resultFormat
	buf    []byte
}

func (rw *resultWriter) str(s string) {
	rw.buf, _ = jsontext.AppendQuote(rw.buf, s) // invalid UTF-8 is replaced
}

// flush writes buf to w; a write error (a client gone) ends the rendering.
func (rw *resultWriter) flush() error {
	_, err := rw.w.Write(rw.buf)
	rw.buf = rw.buf[:0]
	if err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// entity renders {"type","id"[,"message"]}, leaving out empty members.
func (rw *resultWriter) entity(typ, id, msg string) {
	rw.buf = append(rw.buf, '{')
	sep := false
	for _, m := range [...]struct{ k, v string }{{"type", typ}, {"id", id}, {"message", msg}} {
		if m.v == "" {
			continue
		}
		if sep {
			rw.buf = append(rw.buf, ',')
		}
		sep = true
		rw.buf = append(rw.buf, '"')
		rw.buf = append(rw.buf, m.k...)
		rw.buf = append(rw.buf, `":`...)
		rw.str(m.v)
	}
	rw.buf = append(rw.buf, '}')
}

// list renders the rows of rows as the JSON array member name (JSON) or as
// one {"line": ...} line per row (NDJSON); nothing when there is no row.
func (rw *resultWriter) list(rows pgx.Rows, name, line string, scan func() error) error {
	defer rows.Close()
	n := 0
	for rows.Next() {
		switch {
		case rw.format == formatNDJSON:
			rw.buf = append(rw.buf, `{"`...)
			rw.buf = append(rw.buf, line...)
			rw.buf = append(rw.buf, `":`...)
		case n == 0:
			rw.buf = append(rw.buf, `,"`...)
			rw.buf = append(rw.buf, name...)
			rw.buf = append(rw.buf, `":[`...)
		default:
			rw.buf = append(rw.buf, ',')
		}
		if err := scan(); err != nil {
			return err
		}
		if rw.format == formatNDJSON {
			rw.buf = append(rw.buf, "}\n"...)
		}
		if err := rw.flush(); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n > 0 && rw.format == formatJSON {
		rw.buf = append(rw.buf, ']')
	}
	return nil
}

func (rw *resultWriter) errors(ctx context.Context, tx pgx.Tx, jobID string) error {
	rows, err := tx.Query(ctx, `SELECT type, id, coalesce(message, '') FROM job_results
		WHERE job_id = $1 AND outcome = 'error' ORDER BY pass, org_index, step, item, sub`, jobID)
	if err != nil {
		return fmt.Errorf("read errors of job %s: %w", jobID, err)
	}
	var typ, id, msg string
	err = rw.list(rows, "errors", "error", func() error {
		if err := rows.Scan(&typ, &id, &msg); err != nil {
			return err
		}
		rw.entity(typ, id, msg)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read errors of job %s: %w", jobID, err)
	}
	return nil
}

// entities renders the {type, id} list of the entities whose outcome is
// outcome ("skipped" or "overwritten"), under the list's name in JSON and one
// line per entity in NDJSON.
func (rw *resultWriter) entities(ctx context.Context, tx pgx.Tx, jobID, outcome string) error {
	// An overwritten entity's id in the error format is in its message
	// (its id is its success-list entry).
	rows, err := tx.Query(ctx, `SELECT type, coalesce(message, id) FROM job_results
		WHERE job_id = $1 AND outcome = $2 ORDER BY pass, org_index, step, item, sub`, jobID, outcome)
	if err != nil {
		return fmt.Errorf("read %s entities of job %s: %w", outcome, jobID, err)
	}
	var typ, id string
	err = rw.list(rows, outcome, outcome, func() error {
		if err := rows.Scan(&typ, &id); err != nil {
			return err
		}
		rw.entity(typ, id, "")
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s entities of job %s: %w", outcome, jobID, err)
	}
	return nil
}

// success renders "success": {"orgs": [...]} (JSON) or one {"org": ...} line
// per org (NDJSON). An org has an entry when it was created ("ok" org result)
// or existed and its data was imported into it (job_orgs.present), as in
// ZITADEL. Rows come ordered by org, list rank, item, so that each org and
// each list is written as soon as it is complete.
func (rw *resultWriter) success(ctx context.Context, tx pgx.Tx, jobID string, plan successPlan) error {
	rows, err := tx.Query(ctx, `
		SELECT o.org_index, o.org_id, r.step, r.id, r.f1, `+linkUnlessExpired("r", "$4")+`, r.f3, r.f4
		FROM job_orgs o
		LEFT JOIN job_results r ON r.job_id = o.job_id AND r.org_index = o.org_index
			AND r.outcome IN ('ok', 'overwritten') AND r.step = ANY ($2::int[])
		WHERE o.job_id = $1 AND (o.present IS TRUE OR EXISTS (
			SELECT 1 FROM job_results x WHERE x.job_id = o.job_id AND x.org_index = o.org_index
				AND x.step = $3 AND x.outcome = 'ok'))
		ORDER BY o.org_index, array_position($2::int[], r.step), r.item, r.sub`,
		jobID, plan.order, plan.orgStep, passwordlessStep.number())
	if err != nil {
		return fmt.Errorf("read successes of job %s: %w", jobID, err)
	}
	defer rows.Close()
	if rw.format == formatJSON {
		rw.buf = append(rw.buf, `,"success":{`...)
	}
	var (
		orgIndex  int32
		step      *int32
		orgID, id string
		f         [4]*string
		curOrg    int32 = -1
		orgs      int
		curList   string
		entries   int
	)
	endOrg := func() error {
		if orgs == 0 {
			return nil
		}
		if curList != "" {
			rw.buf = append(rw.buf, ']')
		}
		rw.buf = append(rw.buf, '}')
		if rw.format == formatNDJSON {
			rw.buf = append(rw.buf, "}\n"...)
		}
		return rw.flush()
	}
	for rows.Next() {
		var rid *string
		if err := rows.Scan(&orgIndex, &orgID, &step, &rid, &f[0], &f[1], &f[2], &f[3]); err != nil {
			return fmt.Errorf("read successes of job %s: %w", jobID, err)
		}
		if orgIndex != curOrg {
			if err := endOrg(); err != nil {
				return err
			}
			switch {
			case rw.format == formatNDJSON:
				rw.buf = append(rw.buf, `{"org":`...)
			case orgs == 0:
				rw.buf = append(rw.buf, `"orgs":[`...)
			default:
				rw.buf = append(rw.buf, ',')
			}
			rw.buf = append(rw.buf, `{"orgId":`...)
			rw.str(orgID)
			curOrg, curList = orgIndex, ""
			orgs++
		}
		if step == nil {
			continue // an org without successes besides itself
		}
		ss := plan.steps[int(*step)]
		if ss.list != curList {
			if curList != "" {
				rw.buf = append(rw.buf, ']')
			}
			rw.buf = append(rw.buf, `,"`...)
			rw.buf = append(rw.buf, ss.list...)
			rw.buf = append(rw.buf, `":[`...)
			curList, entries = ss.list, 0
		}
		if entries > 0 {
			rw.buf = append(rw.buf, ',')
		}
		entries++
		id = ""
		if rid != nil {
			id = *rid
		}
		if ss.keys == nil {
			rw.str(id)
		} else {
			rw.successObject(ss.keys, f)
		}
		if len(rw.buf) >= 16<<10 {
			if err := rw.flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read successes of job %s: %w", jobID, err)
	}
	if err := endOrg(); err != nil {
		return err
	}
	if rw.format == formatJSON {
		if orgs > 0 {
			rw.buf = append(rw.buf, ']')
		}
		rw.buf = append(rw.buf, '}')
	}
	return nil
}

// successObject renders an object entry from f1..f4 named by keys, leaving out
// empty members (proto3 JSON).
func (rw *resultWriter) successObject(keys []string, f [4]*string) {
	rw.buf = append(rw.buf, '{')
	sep := false
	for i, k := range keys {
		if i >= len(f) || f[i] == nil || *f[i] == "" {
			continue
		}
		v := *f[i]
		var elems []string
		array := strings.HasSuffix(k, "[]")
		if array {
			k = strings.TrimSuffix(k, "[]")
			if json.Unmarshal([]byte(v), &elems) != nil || len(elems) == 0 {
				continue
			}
		}
		if sep {
			rw.buf = append(rw.buf, ',')
		}
		sep = true
		rw.str(k)
		rw.buf = append(rw.buf, ':')
		if !array {
			rw.str(v)
			continue
		}
		rw.buf = append(rw.buf, '[')
		for j, e := range elems {
			if j > 0 {
				rw.buf = append(rw.buf, ',')
			}
			rw.str(e)
		}
		rw.buf = append(rw.buf, ']')
	}
	rw.buf = append(rw.buf, '}')
}
