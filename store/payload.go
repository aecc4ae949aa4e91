package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
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
