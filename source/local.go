package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LocalPathError is a local path a request may not name.
type LocalPathError struct{ Msg string }

func (e *LocalPathError) Error() string { return e.Msg }

// LocalPath checks a request's local path against the import directory dir
// and returns it relative to dir. The path is relative to dir or absolute
// inside it; "..", and symlinks that lead out of dir, are refused when the
// file is opened (os.Root). An empty dir refuses every local path.
func LocalPath(dir, path string) (string, error) {
	if dir == "" {
		return "", &LocalPathError{"local files are not enabled; the operator sets ZIMPORT_LOCAL_IMPORT_DIR to the directory they may be read from"}
	}
	if path == "" {
		return "", &LocalPathError{"path is required"}
	}
	if strings.ContainsRune(path, 0) {
		return "", &LocalPathError{"path must not contain the NUL character"}
	}
	rel := path
	if filepath.IsAbs(path) {
		rel = ""
		for _, base := range localBases(dir) {
			if r, err := filepath.Rel(base, filepath.Clean(path)); err == nil && filepath.IsLocal(r) {
				rel = r
				break
			}
		}
		if rel == "" {
			return "", &LocalPathError{fmt.Sprintf("path %q is outside the import directory", path)}
		}
	}
	if !filepath.IsLocal(rel) {
		return "", &LocalPathError{fmt.Sprintf("path %q is outside the import directory", path)}
	}
	return filepath.ToSlash(filepath.Clean(rel)), nil
}

// localBases are the import directory as configured and with its symlinks
// resolved, the two ways an absolute path inside it may start.
func localBases(dir string) []string {
	bases := []string{filepath.Clean(dir)}
	if abs, err := filepath.Abs(dir); err == nil {
		bases = append(bases, abs)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		bases = append(bases, real)
	}
	return bases
}

// CheckLocal checks that the local file at path (see LocalPath) can be
// read: it resolves, symlinks followed, to a regular file inside dir.
func CheckLocal(dir, path string) error {
	return CheckLocalIn(Config{LocalDir: dir, LocalShared: true}, Location{Kind: KindLocal, Path: path})
}

// CheckLocalIn checks that the local file of loc can be read: it
// resolves, symlinks followed, to a regular file inside its directory.
func CheckLocalIn(cfg Config, loc Location) error {
	dir := filepath.Join(cfg.LocalDir, loc.Dir)
	rel, err := LocalPath(dir, loc.Path)
	if err != nil {
		return err
	}
	loc.Path = rel
	o, err := openLocal(cfg, loc)
	if err != nil {
		return err
	}
	defer o.Close()
	_, err = o.Stat(context.Background())
	return err
}

// localObject is a file inside the import directory, opened through
// os.Root so that neither ".." nor a symlink can lead out of it.
type localObject struct {
	loc  Location
	root *os.Root
}

func openLocal(cfg Config, loc Location) (Object, error) {
	if cfg.LocalDir == "" {
		_, err := cfg.LocalSubdir("")
		return nil, &Error{Loc: loc, Msg: err.Error()}
	}
	if loc.Dir != "" && (!filepath.IsLocal(loc.Dir) || strings.ContainsAny(loc.Dir, `/\`)) {
		return nil, &Error{Loc: loc, Msg: "not a directory of the import directory"}
	}
	dir := filepath.Join(cfg.LocalDir, loc.Dir)
	rel, err := LocalPath(dir, loc.Path)
	if err != nil {
		return nil, &Error{Loc: loc, Msg: err.Error()}
	}
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) && loc.Dir != "" {
		return nil, &Error{Loc: loc, Msg: "this instance has no import directory yet; the operator creates ZIMPORT_LOCAL_IMPORT_DIR/<instance id>"}
	}
	if err != nil {
		return nil, &Error{Loc: loc, Msg: "the import directory cannot be opened"}
	}
	loc.Path = rel
	return &localObject{loc: loc, root: root}, nil
}

func (o *localObject) Location() Location { return o.loc }

func (o *localObject) Close() error { return o.root.Close() }

func (o *localObject) Stat(context.Context) (Version, error) {
	fi, err := o.root.Stat(o.loc.Path)
	if err != nil {
		return Version{}, o.classify(err)
	}
	return o.version(fi)
}

func (o *localObject) version(fi fs.FileInfo) (Version, error) {
	if !fi.Mode().IsRegular() {
		return Version{}, &Error{Loc: o.loc, Msg: "not a regular file"}
	}
	return Version{Tag: localTag(fi), Size: fi.Size()}, nil
}

// classify turns an error of os.Root into an *Error without the paths of
// the server that the os error would carry.
func (o *localObject) classify(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Loc: o.loc, Msg: "no such file in the import directory"}
	case errors.Is(err, fs.ErrPermission):
		return &Error{Loc: o.loc, Msg: "permission denied"}
	case strings.Contains(err.Error(), "escapes from parent"), strings.Contains(err.Error(), "path escapes"):
		return &Error{Loc: o.loc, Msg: "the path leads out of the import directory"}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &Error{Loc: o.loc, Msg: pe.Err.Error()}
	}
	return err
}

func (o *localObject) open(_ context.Context, v Version, start, end int64) (io.ReadCloser, error) {
	// O_NONBLOCK: opening a FIFO put in the file's place must not wait for
	// a writer; the Stat below then refuses it. Regular files ignore it.
	f, err := o.root.OpenFile(o.loc.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, o.classify(err)
	}
	fi, err := f.Stat()
	if err == nil {
		var now Version
		if now, err = o.version(fi); err == nil && now != v {
			err = ErrChanged
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if end < 0 {
		end = v.Size
	}
	return &localReader{Reader: io.NewSectionReader(f, start, end-start), f: f, o: o, v: v}, nil
}

// localReader reads a section of a local file and checks at its end that
// the file was not changed meanwhile.
type localReader struct {
	io.Reader
	f *os.File
	o *localObject
	v Version
}

func (r *localReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF {
		if verr := r.verify(); verr != nil {
			return n, verr
		}
	}
	return n, err
}

// verify checks that the file is still the version the reader reads.
func (r *localReader) verify() error {
	fi, err := r.f.Stat()
	if err != nil {
		return r.o.classify(err)
	}
	if now, err := r.o.version(fi); err != nil || now != r.v {
		return ErrChanged
	}
	return nil
}

func (r *localReader) Close() error { return r.f.Close() }

// localTag is a local file's pin: its size and modification time, and the
// inode and change time, which no write can set back (they catch a file
// rewritten with its old size and mtime restored).
func localTag(fi fs.FileInfo) string {
	tag := strconv.FormatInt(fi.Size(), 10) + "@" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		tag += fmt.Sprintf("@%d@%d.%09d", st.Ino, st.Ctim.Sec, st.Ctim.Nsec)
	}
	return tag
}
