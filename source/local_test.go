package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// secret is written into files outside the import directory; no error may
// ever show it.
const secret = "TOP-SECRET-7f3a9c-do-not-leak"

// writeFile writes content to dir/rel, creating its directories.
func writeFile(t testing.TB, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLocalPath(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr string // substring; "" for no error
	}{
		{name: "relative", path: "a/b.json", want: "a/b.json"},
		{name: "file at top", path: "orgs.json", want: "orgs.json"},
		{name: "cleaned", path: "./a//c/../b.json", want: "a/b.json"},
		{name: "absolute inside", path: filepath.Join(dir, "a", "b.json"), want: "a/b.json"},
		{name: "absolute inside, uncleaned", path: dir + "/a/./x/../b.json", want: "a/b.json"},
		{name: "empty", path: "", wantErr: "required"},
		{name: "NUL", path: "a\x00b.json", wantErr: "NUL"},
		{name: "parent", path: "../x", wantErr: "outside the import directory"},
		{name: "parent after a dir", path: "a/../../x", wantErr: "outside the import directory"},
		{name: "only parent", path: "..", wantErr: "outside the import directory"},
		{name: "absolute outside", path: "/etc/passwd", wantErr: "outside the import directory"},
		{name: "absolute sibling", path: dir + "-other/x.json", wantErr: "outside the import directory"},
		{name: "absolute escaping", path: filepath.Join(dir, "..", "x.json"), wantErr: "outside the import directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LocalPath(dir, tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LocalPath(%q): %v", tt.path, err)
				}
				if got != tt.want {
					t.Errorf("LocalPath(%q) = %q, want %q", tt.path, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("LocalPath(%q) = %q, want an error containing %q", tt.path, got, tt.wantErr)
			}
			var pe *LocalPathError
			if !errors.As(err, &pe) {
				t.Errorf("error %T, want *LocalPathError", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLocalPath_NotEnabled(t *testing.T) {
	_, err := LocalPath("", "a.json")
	var pe *LocalPathError
	if !errors.As(err, &pe) {
		t.Fatalf("LocalPath with no directory: %v (%T), want *LocalPathError", err, err)
	}
	if !strings.Contains(err.Error(), "ZIMPORT_LOCAL_IMPORT_DIR") {
		t.Errorf("error %q does not name ZIMPORT_LOCAL_IMPORT_DIR", err)
	}
}

// TestLocalPath_SymlinkedDir checks that an absolute path may start with
// the import directory as configured (a symlink) or as it resolves.
func TestLocalPath_SymlinkedDir(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "imports")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		filepath.Join(link, "a", "b.json"),
		filepath.Join(real, "a", "b.json"),
	} {
		got, err := LocalPath(link, p)
		if err != nil {
			t.Fatalf("LocalPath(%q, %q): %v", link, p, err)
		}
		if got != "a/b.json" {
			t.Errorf("LocalPath(%q, %q) = %q, want a/b.json", link, p, got)
		}
	}
	if _, err := LocalPath(link, filepath.Join(filepath.Dir(link), "x.json")); err == nil {
		t.Error("a path beside the symlinked directory was accepted")
	}
}

// TestLocalPath_RelativeDir checks an import directory configured relative
// to the working directory.
func TestLocalPath_RelativeDir(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	if err := os.Mkdir("imports", 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := LocalPath("imports", filepath.Join(wd, "imports", "a.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got != "a.json" {
		t.Errorf("got %q, want a.json", got)
	}
	if _, err := LocalPath("imports", filepath.Join(wd, "a.json")); err == nil {
		t.Error("a path outside the relative directory was accepted")
	}
}

// assertNoSecret fails when err shows the content of the outside file.
func assertNoSecret(t testing.TB, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q shows the content of a file", err)
	}
}

func TestCheckLocal(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	outsideFile := writeFile(t, outside, "secret.txt", secret)
	writeFile(t, outside, "sub/secret.json", secret)

	writeFile(t, dir, "ok.json", `{"orgs":[]}`)
	writeFile(t, dir, "sub/nested.json", `{}`)
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"inside-link.json":  "ok.json",
		"relative-link":     "sub/nested.json",
		"escape-link.json":  outsideFile,
		"escape-rel.json":   "../" + filepath.Base(outside) + "/secret.txt",
		"escape-dir":        filepath.Join(outside, "sub"),
		"dangling.json":     "nothing.json",
		"abs-inside.json":   filepath.Join(dir, "ok.json"),
		"sub/up-link.json":  "../ok.json",
		"sub/out-link.json": "../../" + filepath.Base(outside) + "/secret.txt",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name    string
		path    string
		wantErr string // substring; "" for no error
	}{
		{name: "regular file", path: "ok.json"},
		{name: "nested", path: "sub/nested.json"},
		{name: "absolute", path: filepath.Join(dir, "ok.json")},
		{name: "symlink inside", path: "inside-link.json"},
		{name: "symlink inside, into a subdirectory", path: "relative-link"},
		{name: "symlink up but inside", path: "sub/up-link.json"},
		{name: "missing", path: "missing.json", wantErr: "no such file"},
		{name: "missing in missing dir", path: "nodir/missing.json", wantErr: "no such file"},
		{name: "dangling symlink", path: "dangling.json", wantErr: "no such file"},
		{name: "directory", path: "adir", wantErr: "not a regular file"},
		{name: "the directory itself", path: dir, wantErr: "not a regular file"},
		{name: "fifo", path: "fifo", wantErr: "not a regular file"},
		{name: "symlink out, absolute", path: "escape-link.json", wantErr: "out of the import directory"},
		// os.Root refuses every absolute symlink, even one that names a
		// file inside the directory.
		{name: "symlink inside, absolute target", path: "abs-inside.json", wantErr: "out of the import directory"},
		{name: "symlink out, relative", path: "escape-rel.json", wantErr: "out of the import directory"},
		{name: "symlink out from a subdirectory", path: "sub/out-link.json", wantErr: "out of the import directory"},
		{name: "symlinked directory out", path: "escape-dir/secret.json", wantErr: "out of the import directory"},
		{name: "dot-dot", path: "../" + filepath.Base(outside) + "/secret.txt", wantErr: "outside the import directory"},
		{name: "absolute outside", path: outsideFile, wantErr: "outside the import directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLocal(dir, tt.path)
			assertNoSecret(t, err)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckLocal(%q): %v", tt.path, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckLocal(%q) = nil, want an error containing %q", tt.path, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckLocal(%q) = %q, want it to contain %q", tt.path, err, tt.wantErr)
			}
			var se *Error
			var pe *LocalPathError
			if !errors.As(err, &se) && !errors.As(err, &pe) {
				t.Errorf("CheckLocal(%q) error %T, want *Error or *LocalPathError", tt.path, err)
			}
			if !strings.Contains(tt.path, outside) && strings.Contains(err.Error(), outside) {
				t.Errorf("error %q shows a path of the server outside the import directory", err)
			}
		})
	}
}

// TestCheckLocal_FIFOIsError checks that a FIFO is refused as a *Error
// that says what is wrong.
func TestCheckLocal_FIFOIsError(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := CheckLocal(dir, "pipe.json")
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("CheckLocal on a FIFO: %v (%T), want *Error", err, err)
	}
	if se.Msg != "not a regular file" {
		t.Errorf("message %q, want %q", se.Msg, "not a regular file")
	}
	if se.Loc != (Location{Kind: KindLocal, Path: "pipe.json"}) {
		t.Errorf("location %+v, want local:pipe.json", se.Loc)
	}
}

// TestLocal_FileReplacedByFIFO checks that a read of a pinned file that was
// replaced by a FIFO fails rather than waiting for a writer that never
// comes.
func TestLocal_FileReplacedByFIFO(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "data.json", "0123456789")
	ctx := context.Background()
	obj, err := Open(ctx, Config{LocalDir: dir}, Location{Kind: KindLocal, Path: "data.json"}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	v, err := Pin(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := ReadRange(ctx, obj, v, 0, 5)
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		// Let the blocked open return so that the goroutine ends.
		if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("ReadRange on a FIFO waits for a writer")
	}
	if err == nil {
		t.Fatal("ReadRange on a FIFO succeeded")
	}
	var se *Error
	if !errors.As(err, &se) || se.Msg != "not a regular file" {
		t.Errorf("ReadRange on a FIFO: %v, want *Error %q", err, "not a regular file")
	}
}

// TestOpenLocal_Refused checks Open's answers for local paths it must not
// read.
func TestOpenLocal_Refused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		cfg     Config
		path    string
		wantErr string
	}{
		{name: "not enabled", cfg: Config{}, path: "a.json", wantErr: "ZIMPORT_LOCAL_IMPORT_DIR"},
		{name: "dot-dot", cfg: Config{LocalDir: t.TempDir()}, path: "../a.json", wantErr: "outside the import directory"},
		{name: "missing directory", cfg: Config{LocalDir: filepath.Join(t.TempDir(), "gone")}, path: "a.json", wantErr: "cannot be opened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := Open(ctx, tt.cfg, Location{Kind: KindLocal, Path: tt.path}, Credentials{})
			if err == nil {
				obj.Close()
				t.Fatalf("Open(%q) succeeded", tt.path)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Open(%q): %v (%T), want *Error", tt.path, err, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open(%q) = %q, want it to contain %q", tt.path, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), os.TempDir()) {
				t.Errorf("error %q shows a path of the server", err)
			}
		})
	}
}
