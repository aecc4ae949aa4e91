package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/seal"
	"github.com/zimport/zimport/source"
	"github.com/zimport/zimport/store"
)

// maxOpenFiles bounds the import files a worker keeps open (their clients
// and connections) for the jobs it works on.
const maxOpenFiles = 32

// errNoCredentials is a keyed file whose credentials are gone: its job has
// ended.
var errNoCredentials = errors.New("the credentials of the import file are gone")

// files opens the import files of jobs and keeps the most recent open, so
// that the units of a job share one client.
type files struct {
	cfg  source.Config
	box  *seal.Box
	st   *store.Store
	mu   sync.Mutex
	open map[string]*openFile
	// order lists the job ids of open, least recently used first.
	order []string
}

type openFile struct {
	obj    source.Object
	users  int
	closed bool // evicted: closed when its last user is done
}

// get returns the file of job and a function to call when done with it.
func (f *files) get(ctx context.Context, job store.Job) (source.Object, func(), error) {
	f.mu.Lock()
	if of := f.open[job.ID]; of != nil {
		of.users++
		f.touch(job.ID)
		f.mu.Unlock()
		return of.obj, func() { f.release(of) }, nil
	}
	f.mu.Unlock()
	obj, err := f.openFile(ctx, job)
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if of := f.open[job.ID]; of != nil { // opened meanwhile by another unit
		obj.Close()
		of.users++
		f.touch(job.ID)
		return of.obj, func() { f.release(of) }, nil
	}
	if f.open == nil {
		f.open = map[string]*openFile{}
	}
	of := &openFile{obj: obj, users: 1}
	f.open[job.ID] = of
	f.touch(job.ID)
	for len(f.order) > maxOpenFiles {
		old := f.order[0]
		f.order = f.order[1:]
		if o := f.open[old]; o != nil {
			delete(f.open, old)
			o.closed = true
			if o.users == 0 {
				o.obj.Close()
			}
		}
	}
	return obj, func() { f.release(of) }, nil
}

func (f *files) touch(id string) {
	for i, o := range f.order {
		if o == id {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	f.order = append(f.order, id)
}

func (f *files) release(of *openFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	of.users--
	if of.closed && of.users == 0 {
		of.obj.Close()
	}
}

// openFile opens a job's file with its credentials, unsealed.
func (f *files) openFile(ctx context.Context, job store.Job) (source.Object, error) {
	var creds source.Credentials
	if job.Source.Keyed {
		sealed, err := f.st.SourceSecrets(ctx, job.ID)
		if err != nil {
			return nil, err
		}
		if sealed == nil {
			return nil, errNoCredentials
		}
		plain, err := f.box.Open(sealed)
		if err != nil {
			return nil, fmt.Errorf("unseal the credentials of job %s: %w", job.ID, err)
		}
		if err := json.Unmarshal(plain, &creds); err != nil {
			return nil, fmt.Errorf("read the credentials of job %s: %w", job.ID, err)
		}
	}
	return source.Open(ctx, f.cfg, *job.Source, creds)
}

// fileUnitBytes reads the bytes of unit u from its job's file: its range,
// or its members' spans joined into one org object.
func (w *Worker) fileUnitBytes(ctx context.Context, job store.Job, u store.Unit) ([]byte, error) {
	if job.SourceVersion == nil {
		return nil, fmt.Errorf("job %s has no pinned file version", job.ID)
	}
	obj, release, err := w.files.get(ctx, job)
	if err != nil {
		return nil, err
	}
	defer release()
	if u.Spans == nil {
		return source.ReadRange(ctx, obj, *job.SourceVersion, u.SrcStart, u.SrcEnd)
	}
	spans := make([][2]int64, len(u.Spans))
	for i, sp := range u.Spans {
		spans[i] = [2]int64{sp.Start, sp.End}
	}
	parts, err := source.ReadSpans(ctx, obj, *job.SourceVersion, spans)
	if err != nil {
		return nil, err
	}
	return importdata.JoinMembers(parts), nil
}

// fileFailure is the message a job fails with when its file cannot be
// read, or "" when err is not about the file.
func fileFailure(err error) string {
	var se *source.Error
	switch {
	case errors.Is(err, source.ErrChanged):
		return source.ErrChanged.Error()
	case errors.As(err, &se):
		return "the import file cannot be read: " + se.Error()
	}
	return ""
}
