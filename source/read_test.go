package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// testContent returns n bytes that differ from one call to the next by
// seed, with no run long enough to hide an offset error.
func testContent(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// localFile writes content into a fresh import directory and returns the
// opened object, pinned, and the file's path.
func localFile(t testing.TB, content []byte) (Object, Version, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "data", "import.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obj, err := Open(ctx, Config{LocalDir: dir}, Location{Kind: KindLocal, Path: "data/import.json"}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obj.Close() })
	v, err := Pin(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	return obj, v, p
}

// readAll streams version v of obj.
func readAll(t testing.TB, obj Object, v Version) ([]byte, error) {
	t.Helper()
	r := NewReader(context.Background(), obj, v)
	defer r.Close()
	return io.ReadAll(r)
}

func TestLocal_Pin(t *testing.T) {
	content := testContent(1000, 1)
	obj, v, p := localFile(t, content)
	if v.Size != 1000 {
		t.Errorf("size %d, want 1000", v.Size)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := localTag(fi); v.Tag != want {
		t.Errorf("tag %q, want %q", v.Tag, want)
	}
	if got := obj.Location(); got != (Location{Kind: KindLocal, Path: "data/import.json"}) {
		t.Errorf("location %+v", got)
	}
	v2, err := Pin(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	if v2 != v {
		t.Errorf("a second Pin of an unchanged file = %+v, want %+v", v2, v)
	}
}

func TestLocal_Stream(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 700 << 10} {
		content := testContent(n, uint64(n))
		obj, v, _ := localFile(t, content)

		got, err := readAll(t, obj, v)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, content) {
			t.Errorf("%d bytes: the stream has %d bytes that differ from the file", n, len(got))
		}

		// Reads of every size, and EOF that stays EOF.
		if err := iotest.TestReader(NewReader(context.Background(), obj, v), content); err != nil {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}

func TestLocal_ReadRange(t *testing.T) {
	content := testContent(300<<10, 2)
	obj, v, _ := localFile(t, content)
	size := int64(len(content))
	ctx := context.Background()
	for _, r := range [][2]int64{
		{0, 1}, {0, 100}, {100, 200}, {1000, 150000}, {size - 1, size}, {0, size}, {12345, 12346},
	} {
		got, err := ReadRange(ctx, obj, v, r[0], r[1])
		if err != nil {
			t.Fatalf("ReadRange %v: %v", r, err)
		}
		if !bytes.Equal(got, content[r[0]:r[1]]) {
			t.Errorf("ReadRange %v: the bytes differ from the file's", r)
		}
	}
}

func TestLocal_ReadRange_Empty(t *testing.T) {
	content := testContent(100, 3)
	obj, v, _ := localFile(t, content)
	for _, at := range []int64{0, 50, 100} {
		got, err := ReadRange(context.Background(), obj, v, at, at)
		if err != nil {
			t.Fatalf("empty range at %d: %v", at, err)
		}
		if got == nil || len(got) != 0 {
			t.Errorf("empty range at %d = %v, want an empty slice", at, got)
		}
	}
}

func TestLocal_ReadRange_Outside(t *testing.T) {
	content := testContent(100, 4)
	obj, v, _ := localFile(t, content)
	for _, r := range [][2]int64{{0, 101}, {-1, 10}, {50, 40}, {100, 101}, {200, 300}} {
		got, err := ReadRange(context.Background(), obj, v, r[0], r[1])
		if err == nil {
			t.Errorf("ReadRange %v = %d bytes, want an error", r, len(got))
			continue
		}
		if !strings.Contains(err.Error(), "outside") || !strings.Contains(err.Error(), "local:data/import.json") {
			t.Errorf("ReadRange %v: %q, want it to name the file and say the range is outside", r, err)
		}
	}
}

func TestLocal_ReadSpans(t *testing.T) {
	content := testContent(1<<20, 5)
	obj, v, _ := localFile(t, content)
	tests := []struct {
		name  string
		spans [][2]int64
	}{
		{name: "none"},
		{name: "one", spans: [][2]int64{{10, 20}}},
		{name: "adjacent", spans: [][2]int64{{0, 10}, {10, 20}, {20, 30}}},
		{name: "close", spans: [][2]int64{{0, 10}, {100, 200}, {5000, 6000}}},
		{name: "gap of exactly maxGap", spans: [][2]int64{{0, 10}, {10 + maxGap, 20 + maxGap}}},
		{name: "far apart", spans: [][2]int64{{0, 10}, {400 << 10, 400<<10 + 100}, {900 << 10, 900<<10 + 5}}},
		{name: "close then far", spans: [][2]int64{{0, 10}, {20, 30}, {600 << 10, 600<<10 + 10}, {600<<10 + 20, 600<<10 + 40}}},
		{name: "out of order", spans: [][2]int64{{500, 600}, {100, 200}, {150, 550}}},
		{name: "empty span", spans: [][2]int64{{10, 10}, {10, 20}}},
		{name: "to the end", spans: [][2]int64{{1<<20 - 10, 1 << 20}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSpans(context.Background(), obj, v, tt.spans)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.spans) {
				t.Fatalf("%d parts, want %d", len(got), len(tt.spans))
			}
			for i, s := range tt.spans {
				if !bytes.Equal(got[i], content[s[0]:s[1]]) {
					t.Errorf("span %d %v: the bytes differ from the file's", i, s)
				}
			}
		})
	}
}

func TestLocal_ReadSpans_Outside(t *testing.T) {
	obj, v, _ := localFile(t, testContent(100, 6))
	if _, err := ReadSpans(context.Background(), obj, v, [][2]int64{{0, 10}, {90, 101}}); err == nil {
		t.Error("ReadSpans past the end succeeded")
	}
}

// changes are the ways a file can change after it was pinned.
var changes = []struct {
	name   string
	change func(t testing.TB, p string, content []byte)
}{
	{name: "longer", change: func(t testing.TB, p string, content []byte) {
		if err := os.WriteFile(p, append(content, "more"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "shorter", change: func(t testing.TB, p string, content []byte) {
		if err := os.WriteFile(p, content[:len(content)/2], 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "same size, new mtime", change: func(t testing.TB, p string, content []byte) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.ToUpper(content), 0o644); err != nil {
			t.Fatal(err)
		}
		mtime := fi.ModTime().Add(time.Second)
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "same bytes, new mtime", change: func(t testing.TB, p string, _ []byte) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		mtime := fi.ModTime().Add(-time.Hour)
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "same size, mtime restored", change: func(t testing.TB, p string, content []byte) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.ToUpper(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "replaced by rename", change: func(t testing.TB, p string, content []byte) {
		tmp := p + ".new"
		if err := os.WriteFile(tmp, append([]byte("x"), content...), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}},
}

func TestLocal_ChangedAfterPin(t *testing.T) {
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			content := []byte(strings.Repeat(`{"orgs":[{"id":"1"}]}`, 100))
			obj, v, p := localFile(t, content)
			c.change(t, p, content)

			if _, err := ReadRange(context.Background(), obj, v, 0, 10); !errors.Is(err, ErrChanged) {
				t.Errorf("ReadRange: %v, want ErrChanged", err)
			}
			if _, err := ReadSpans(context.Background(), obj, v, [][2]int64{{0, 10}}); !errors.Is(err, ErrChanged) {
				t.Errorf("ReadSpans: %v, want ErrChanged", err)
			}
			got, err := readAll(t, obj, v)
			if !errors.Is(err, ErrChanged) {
				t.Errorf("stream: %d bytes, %v; want ErrChanged", len(got), err)
			}
		})
	}
}

// TestLocal_ChangedWhileStreamed changes the file after part of it was
// streamed: the stream must not end as if it had read one file.
func TestLocal_ChangedWhileStreamed(t *testing.T) {
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			content := testContent(64<<10, 7)
			obj, v, p := localFile(t, content)
			r := NewReader(context.Background(), obj, v)
			defer r.Close()
			head := make([]byte, 1000)
			if _, err := io.ReadFull(r, head); err != nil {
				t.Fatal(err)
			}
			c.change(t, p, content)
			rest, err := io.ReadAll(r)
			if !errors.Is(err, ErrChanged) {
				t.Errorf("stream after the change: %d more bytes, %v; want ErrChanged", len(rest), err)
			}
			// Reading on does not turn the failure into a clean end.
			if n, err := r.Read(make([]byte, 10)); !errors.Is(err, ErrChanged) {
				t.Errorf("Read after ErrChanged = %d, %v; want ErrChanged again", n, err)
			}
		})
	}
}

// TestLocal_StaleVersion reads with a version that is not the file's.
func TestLocal_StaleVersion(t *testing.T) {
	obj, v, _ := localFile(t, testContent(100, 8))
	stale := Version{Tag: "1000@1", Size: v.Size}
	if _, err := ReadRange(context.Background(), obj, stale, 0, 10); !errors.Is(err, ErrChanged) {
		t.Errorf("ReadRange with a stale version: %v, want ErrChanged", err)
	}
	if _, err := readAll(t, obj, stale); !errors.Is(err, ErrChanged) {
		t.Errorf("stream with a stale version: %v, want ErrChanged", err)
	}
}

// TestLocal_DeletedAfterPin checks that a pinned file that is gone is an
// error that names the file, not a retry loop.
func TestLocal_DeletedAfterPin(t *testing.T) {
	obj, v, p := localFile(t, testContent(100, 9))
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	_, err := ReadRange(context.Background(), obj, v, 0, 10)
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("ReadRange of a deleted file: %v (%T), want *Error", err, err)
	}
	if !strings.Contains(err.Error(), "local:data/import.json") {
		t.Errorf("error %q does not name the file", err)
	}
	if _, err := readAll(t, obj, v); !errors.As(err, &se) {
		t.Errorf("stream of a deleted file: %v, want *Error", err)
	}
	if _, err := Pin(context.Background(), obj); !errors.As(err, &se) {
		t.Errorf("Pin of a deleted file: %v, want *Error", err)
	}
}

func TestOpen_UnknownKind(t *testing.T) {
	_, err := Open(context.Background(), Config{}, Location{Kind: "ftp", Path: "x"}, Credentials{})
	if err == nil || !strings.Contains(err.Error(), "ftp") {
		t.Errorf("Open of an unknown kind: %v, want an error naming it", err)
	}
}

func TestLocation_String(t *testing.T) {
	tests := []struct {
		loc  Location
		want string
	}{
		{Location{Kind: KindLocal, Path: "a/b.json"}, "local:a/b.json"},
		{Location{Kind: KindS3, Bucket: "bk", Path: "a/b.json"}, "s3://bk/a/b.json"},
		{Location{Kind: KindS3, Bucket: "bk", Path: "a.json", Endpoint: "minio:9000", SSL: true}, "s3://bk/a.json@minio:9000"},
		{Location{Kind: KindGCS, Bucket: "bk", Path: "a.json"}, "gs://bk/a.json"},
		{Location{Kind: "x", Path: "p"}, "x:p"},
	}
	for _, tt := range tests {
		if got := tt.loc.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.loc, got, tt.want)
		}
	}
}
