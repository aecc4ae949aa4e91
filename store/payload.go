package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/importdata"
)

// payloadReadSize is how many bytes one range read of a payload fetches.
const payloadReadSize = 1 << 20

// PayloadRange returns bytes [start, end) of a job's stored payload. A
// payload that is gone (its job has ended) is ErrNotFound.
func (s *Store) PayloadRange(ctx context.Context, jobID string, start, end int64) ([]byte, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT substring(data FROM $2 FOR $3) FROM job_payloads WHERE job_id = $1`,
		jobID, start+1, end-start).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read payload %s [%d, %d): %w", jobID, start, end, err)
	}
	return b, nil
}

// UnitBytes returns the payload bytes that unit u decodes: its chunk, the
// org members it needs joined into one org object, or (for units recorded
// without spans) the whole org. A payload that is gone is ErrNotFound.
func (s *Store) UnitBytes(ctx context.Context, u Unit) ([]byte, error) {
	if u.Spans == nil {
		return s.PayloadRange(ctx, u.JobID, u.SrcStart, u.SrcEnd)
	}
	starts, lengths := make([]int64, len(u.Spans)), make([]int64, len(u.Spans))
	for i, sp := range u.Spans {
		starts[i], lengths[i] = sp.Start+1, sp.End-sp.Start
	}
	rows, err := s.pool.Query(ctx, `SELECT substring(p.data FROM r.start::int FOR r.length::int)
		FROM job_payloads p, unnest($2::int8[], $3::int8[]) WITH ORDINALITY AS r(start, length, n)
		WHERE p.job_id = $1 ORDER BY r.n`, u.JobID, starts, lengths)
	if err != nil {
		return nil, fmt.Errorf("read members of unit %d/%d/%d: %w", u.Stage, u.OrgIndex, u.Seq, err)
	}
	parts, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("read members of unit %d/%d/%d: %w", u.Stage, u.OrgIndex, u.Seq, err)
	}
	if len(parts) != len(u.Spans) { // no rows: the payload is gone
		return nil, fmt.Errorf("read members of unit %d/%d/%d of job %s: %w", u.Stage, u.OrgIndex, u.Seq, u.JobID, ErrNotFound)
	}
	return importdata.JoinMembers(parts), nil
}

// PayloadReader streams a job's stored payload from offset in range reads of
// 1 MiB, never loading it whole. Its reads fail with ErrNotFound when the
// payload is gone.
func (s *Store) PayloadReader(ctx context.Context, jobID string, size, offset int64) io.Reader {
	return &payloadReader{ctx: ctx, s: s, jobID: jobID, size: size, off: offset}
}

type payloadReader struct {
	ctx   context.Context
	s     *Store
	jobID string
	size  int64
	off   int64
	buf   []byte
}

func (r *payloadReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.off >= r.size {
			return 0, io.EOF
		}
		end := min(r.off+payloadReadSize, r.size)
		b, err := r.s.PayloadRange(r.ctx, r.jobID, r.off, end)
		if err != nil {
			return 0, err
		}
		if len(b) == 0 {
			return 0, io.ErrUnexpectedEOF
		}
		r.buf = b
		r.off += int64(len(b))
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
