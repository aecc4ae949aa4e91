// Package source reads import files from a local directory, S3 or GCS: once
// as a stream, by the split, and then by byte range, by the units. Every read
// is of the version of the object that the split pinned; a file that changed
// since is ErrChanged. Transient storage errors are retried with backoff;
// the others are *Error, whose message names the file and never holds a
// secret or any of the file's content.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Kinds of Location.
const (
	KindLocal = "local"
	KindS3    = "s3"
	KindGCS   = "gcs"
)

// Location is where an import file is, without its credentials: what a job
// keeps in the clear and shows.
type Location struct {
	Kind string `json:"kind"`
	// Path is the object key, or the file's path relative to the local
	// import directory's subdirectory Dir.
	Path string `json:"path"`
	// Dir is the subdirectory of the local import directory that holds the
	// instance's files (see Config.LocalSubdir), "" when it is shared.
	Dir    string `json:"dir,omitempty"`
	Bucket string `json:"bucket,omitempty"`
	// Endpoint is the S3 endpoint host[:port], empty for AWS.
	Endpoint string `json:"endpoint,omitempty"`
	// SSL selects https for Endpoint.
	SSL bool `json:"ssl,omitempty"`
	// Keyed says the request gave credentials: without them (once the job
	// has ended) the file is not read with the ambient ones instead.
	Keyed bool `json:"keyed,omitempty"`
}

// String names the file without secrets: local:PATH, s3://BUCKET/PATH[@ENDPOINT]
// or gs://BUCKET/PATH.
func (l Location) String() string {
	switch l.Kind {
	case KindLocal:
		return "local:" + l.Path
	case KindS3:
		s := "s3://" + l.Bucket + "/" + l.Path
		if l.Endpoint != "" {
			s += "@" + l.Endpoint
		}
		return s
	case KindGCS:
		return "gs://" + l.Bucket + "/" + l.Path
	}
	return l.Kind + ":" + l.Path
}

// Credentials are the secrets a request gives for its file. They are kept
// only sealed, and only while the job runs.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	// ServiceAccountJSON is the decoded service-account JSON.
	ServiceAccountJSON []byte `json:"serviceAccountJson,omitempty"`
}

// Version pins one version of a file: its S3 ETag, its GCS generation, or
// the modification time of a local file; and its size.
type Version struct {
	Tag  string `json:"tag"`
	Size int64  `json:"size"`
}

// ErrChanged is a file that is no longer the version the split read.
var ErrChanged = errors.New("the file changed while it was imported")

// Error is a storage error that retrying cannot mend: a missing object or
// bucket, denied access, wrong keys, a file that is not a regular file.
type Error struct {
	Loc Location
	Msg string
}

func (e *Error) Error() string {
	if e.Loc.Kind == "" {
		return e.Msg
	}
	return e.Loc.String() + ": " + e.Msg
}

// Object is one import file.
type Object interface {
	// Stat returns the file's current version.
	Stat(ctx context.Context) (Version, error)
	// open returns the bytes [start, end) of version v; end -1 reads to the
	// end. The reader fails with ErrChanged when the file is no longer v.
	open(ctx context.Context, v Version, start, end int64) (io.ReadCloser, error)
	// Location is the file's location.
	Location() Location
	// Close releases the object's clients.
	Close() error
}

// Open returns the object at loc, read with creds (or the ambient
// credentials when creds are empty), checked against cfg's rules.
func Open(ctx context.Context, cfg Config, loc Location, creds Credentials) (Object, error) {
	switch loc.Kind {
	case KindLocal:
		return openLocal(cfg, loc)
	case KindS3:
		return openS3(ctx, cfg, loc, creds)
	case KindGCS:
		return openGCS(ctx, cfg, loc, creds)
	}
	return nil, fmt.Errorf("unknown source kind %q", loc.Kind)
}

// NewReader streams version v of obj from its start. A transient error
// resumes the stream where it broke (a range read from there); at the end
// the object's version is checked once more, so that a file replaced while
// it was read is ErrChanged.
func NewReader(ctx context.Context, obj Object, v Version) io.ReadCloser {
	return &streamReader{ctx: ctx, obj: obj, v: v}
}

// Pin returns the current version of obj, retrying transient errors.
func Pin(ctx context.Context, obj Object) (Version, error) {
	var v Version
	err := retry(ctx, func() (err error) {
		v, err = obj.Stat(ctx)
		return err
	})
	return v, wrap(obj.Location(), err)
}

// ReadSpans reads the byte ranges spans of version v of obj, in one range
// read for spans whose gaps are small, and returns each span's bytes.
func ReadSpans(ctx context.Context, obj Object, v Version, spans [][2]int64) ([][]byte, error) {
	parts := make([][]byte, len(spans))
	for i := 0; i < len(spans); {
		j := i + 1
		for j < len(spans) && spans[j][0] >= spans[j-1][1] && spans[j][0]-spans[j-1][1] <= maxGap {
			j++
		}
		b, err := ReadRange(ctx, obj, v, spans[i][0], spans[j-1][1])
		if err != nil {
			return nil, err
		}
		for k := i; k < j; k++ {
			parts[k] = b[spans[k][0]-spans[i][0] : spans[k][1]-spans[i][0]]
		}
		i = j
	}
	return parts, nil
}

// maxGap is the largest gap between two spans that ReadSpans reads along
// rather than making another request.
const maxGap = 256 << 10

// ReadRange reads bytes [start, end) of version v of obj, retrying
// transient errors.
func ReadRange(ctx context.Context, obj Object, v Version, start, end int64) ([]byte, error) {
	if start < 0 || end < start || end > v.Size {
		return nil, fmt.Errorf("read %s: range [%d, %d) is outside its %d bytes", obj.Location(), start, end, v.Size)
	}
	buf := make([]byte, end-start)
	if len(buf) == 0 {
		return buf, nil
	}
	err := retry(ctx, func() error {
		r, err := openWatched(ctx, obj, v, start, end)
		if err != nil {
			return err
		}
		defer r.Close()
		if _, err = io.ReadFull(r, buf); err != nil {
			return err
		}
		return r.verify()
	})
	if err != nil {
		return nil, wrap(obj.Location(), err)
	}
	return buf, nil
}

// verifier is a reader that can check, after a read, that the file did
// not change while it was read (a local file, which has no versions).
type verifier interface{ verify() error }

// wrap adds the location to errors that do not name it.
func wrap(loc Location, err error) error {
	var se *Error
	if err == nil || errors.As(err, &se) || errors.Is(err, ErrChanged) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("read %s: %w", loc, err)
}

type streamReader struct {
	ctx  context.Context
	obj  Object
	v    Version
	off  int64
	r    io.ReadCloser
	done bool
	// failures counts the failed reads since bytes last arrived.
	failures int
}

func (s *streamReader) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	for {
		if s.off >= s.v.Size {
			if s.r != nil {
				s.r.Close()
				s.r = nil
			}
			return 0, s.finish()
		}
		if s.r == nil {
			r, err := openWatched(s.ctx, s.obj, s.v, s.off, -1)
			if err != nil {
				if err := s.failed(err); err != nil {
					return 0, err
				}
				continue
			}
			s.r = r
		}
		if rest := s.v.Size - s.off; int64(len(p)) > rest {
			p = p[:rest] // never more than the pinned version has
		}
		n, err := s.r.Read(p)
		s.off += int64(n)
		if n > 0 {
			s.failures = 0
		}
		if err == io.EOF && s.off >= s.v.Size {
			s.r.Close()
			s.r = nil
			if n > 0 {
				return n, nil
			}
			return 0, s.finish()
		}
		if err == io.EOF { // cut short: resume from s.off
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			s.r.Close()
			s.r = nil
			if n == 0 {
				if err := s.failed(err); err != nil {
					return 0, err
				}
				continue
			}
		}
		return n, nil
	}
}

// failed counts a failed read and waits before the next one, or returns
// the error when it is not transient or has happened too often in a row.
func (s *streamReader) failed(err error) error {
	if !transient(err) || s.failures >= maxAttempts-1 {
		return wrap(s.obj.Location(), err)
	}
	s.failures++
	return backoff(s.ctx, s.failures-1)
}

// finish checks, at the end of the stream, that the file is still v. Only
// a check that passes ends the stream: after a failed one, the next Read
// checks again rather than report a clean end.
func (s *streamReader) finish() error {
	var now Version
	err := retry(s.ctx, func() (err error) {
		now, err = s.obj.Stat(s.ctx)
		return err
	})
	if err != nil {
		return wrap(s.obj.Location(), err)
	}
	if now != s.v {
		return ErrChanged
	}
	s.done = true
	return io.EOF
}

func (s *streamReader) Close() error {
	if s.r != nil {
		return s.r.Close()
	}
	return nil
}
