package source

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const (
	testKeyID  = "AKIAZIMPORTTEST00001"
	testSecret = "zimport-test-secret-key"
	testBucket = "imports"
)

// fakeS3 is gofakes3 behind a middleware that checks the access key id,
// as S3 does, and can be made to fail: answer errors for the next
// requests, or cut the body of the next GET.
type fakeS3 struct {
	srv      *httptest.Server
	endpoint string // 127.0.0.1:PORT
	s3       http.Handler

	mu sync.Mutex
	// faults are answered, one per request, before gofakes3 sees it.
	faults []s3Fault
	// cutAfter, when >= 0, cuts the body of the next object GET after
	// that many bytes.
	cutAfter int64
	// stall, with cutAfter, keeps the connection open after the cut and
	// sends nothing more.
	stall bool
	// ignoreRange answers GETs with the whole object, as a store without
	// range reads would.
	ignoreRange bool
	// ignoreIfMatch turns off the If-Match check that gofakes3 lacks.
	ignoreIfMatch bool
	requests      int
	faulted       int
	// preconditionFailed counts the GETs refused for their If-Match.
	preconditionFailed int
	// gets are the Range headers of the object GETs, in order.
	gets []string
	// scopes are the credential scopes of the requests, in order.
	scopes []string
}

// s3Fault is an S3 error answer; status 0 closes the connection without
// one.
type s3Fault struct {
	status int
	code   string
}

var credentialRE = regexp.MustCompile(`Credential=([^/,]+)/([^,]+),`)

// newFakeS3 starts a fake S3 on 127.0.0.1 with the bucket testBucket.
func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{s3: gofakes3.New(s3mem.New()).Server(), cutAfter: -1}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	f.endpoint = f.srv.Listener.Addr().String()
	if _, err := f.admin().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	f.reset()
	return f
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != testKeyID {
		f.mu.Unlock()
		writeS3Error(w, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		return
	}
	f.scopes = append(f.scopes, m[2])
	if len(f.faults) > 0 {
		fault := f.faults[0]
		f.faults = f.faults[1:]
		f.faulted++
		f.mu.Unlock()
		if fault.status == 0 {
			panic(http.ErrAbortHandler) // the connection is closed, no answer
		}
		writeS3Error(w, fault.status, fault.code, "injected by the test")
		return
	}
	objectGet := r.Method == http.MethodGet && strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1
	cut := int64(-1)
	if objectGet {
		f.gets = append(f.gets, r.Header.Get("Range"))
		cut, f.cutAfter = f.cutAfter, -1
	}
	stall := f.stall && cut >= 0
	f.stall = f.stall && cut < 0
	checkIfMatch := !f.ignoreIfMatch
	if f.ignoreRange {
		r.Header.Del("Range")
	}
	f.mu.Unlock()

	if im := r.Header.Get("If-Match"); objectGet && im != "" && checkIfMatch {
		head := httptest.NewRecorder()
		f.s3.ServeHTTP(head, httptest.NewRequestWithContext(r.Context(), http.MethodHead, r.URL.String(), nil))
		if head.Code == http.StatusOK && head.Header().Get("ETag") != im {
			f.mu.Lock()
			f.preconditionFailed++
			f.mu.Unlock()
			writeS3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
			return
		}
	}
	if cut < 0 {
		f.s3.ServeHTTP(w, r)
		return
	}
	if stall {
		serveStall(w, r, f.s3, cut)
		return
	}
	serveCut(w, r, f.s3, cut)
}

// serveCut answers r as h does, but closes the connection after the
// first cut bytes of the body.
func serveCut(w http.ResponseWriter, r *http.Request, h http.Handler, cut int64) {
	servePart(w, r, h, cut)
	panic(http.ErrAbortHandler) // the connection is closed mid-body
}

// serveStall answers r as h does, but sends nothing after the first cut
// bytes of the body, until the client gives up.
func serveStall(w http.ResponseWriter, r *http.Request, h http.Handler, cut int64) {
	servePart(w, r, h, cut)
	<-r.Context().Done()
}

// servePart sends the head of h's answer to r and the first cut bytes of
// its body.
func servePart(w http.ResponseWriter, r *http.Request, h http.Handler, cut int64) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(rec.Code)
	w.Write(body[:min(cut, int64(len(body)))])
	w.(http.Flusher).Flush()
}

// writeS3Error answers an S3 error document.
func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
	}{Code: code, Message: msg})
}

// failNext answers the next n requests with fault.
func (f *fakeS3) failNext(n int, fault s3Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
	for range n {
		f.faults = append(f.faults, fault)
	}
}

// cutNextGet cuts the body of the next object GET after k bytes.
func (f *fakeS3) cutNextGet(k int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutAfter = k
}

// reset forgets faults and counts.
func (f *fakeS3) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults, f.cutAfter, f.requests, f.faulted, f.gets, f.scopes = nil, -1, 0, 0, nil, nil
	f.preconditionFailed = 0
}

// counts returns the requests, the faults answered and the object GETs'
// ranges since the last reset.
func (f *fakeS3) counts() (requests, faulted int, gets []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.faulted, append([]string(nil), f.gets...)
}

// admin is an SDK client of the fake, for the test's own writes.
func (f *fakeS3) admin() *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + f.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	})
}

func (f *fakeS3) put(t testing.TB, key string, content []byte) {
	t.Helper()
	_, err := f.admin().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(content),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func (f *fakeS3) config(t testing.TB) Config {
	t.Helper()
	list, err := ParseAllowList(f.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return Config{S3Endpoints: list}
}

func (f *fakeS3) loc(bucket, key string) Location {
	return Location{Kind: KindS3, Endpoint: f.endpoint, Bucket: bucket, Path: key, Keyed: true}
}

var testCreds = Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

// open opens bucket/key on the fake with the test's keys.
func (f *fakeS3) open(t testing.TB, bucket, key string, creds Credentials) Object {
	t.Helper()
	obj, err := Open(context.Background(), f.config(t), f.loc(bucket, key), creds)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { obj.Close() })
	return obj
}

// pinned puts content at key and returns the object opened and pinned.
func (f *fakeS3) pinned(t testing.TB, key string, content []byte) (Object, Version) {
	t.Helper()
	f.put(t, key, content)
	obj := f.open(t, testBucket, key, testCreds)
	v, err := Pin(context.Background(), obj)
	if err != nil {
		t.Fatalf("Pin: %v", err)
	}
	f.reset()
	return obj, v
}

func TestS3_Read(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(900<<10, 10)
	obj, v := f.pinned(t, "dir/sub dir/import ä.json", content)
	ctx := context.Background()

	if v.Size != int64(len(content)) || v.Tag == "" {
		t.Fatalf("version %+v, want size %d and an ETag", v, len(content))
	}

	t.Run("stream", func(t *testing.T) {
		got, err := readAll(t, obj, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content) {
			t.Errorf("the stream has %d bytes that differ from the object", len(got))
		}
	})

	t.Run("ranges", func(t *testing.T) {
		size := int64(len(content))
		for _, r := range [][2]int64{{0, 1}, {0, 1000}, {1000, 2000}, {size - 10, size}, {0, size}, {5, 5}} {
			got, err := ReadRange(ctx, obj, v, r[0], r[1])
			if err != nil {
				t.Fatalf("ReadRange %v: %v", r, err)
			}
			if !bytes.Equal(got, content[r[0]:r[1]]) {
				t.Errorf("ReadRange %v: the bytes differ from the object's", r)
			}
		}
		if _, err := ReadRange(ctx, obj, v, 0, size+1); err == nil {
			t.Error("ReadRange past the end succeeded")
		}
	})

	t.Run("spans", func(t *testing.T) {
		tests := []struct {
			name     string
			spans    [][2]int64
			wantGets int
		}{
			{name: "close", spans: [][2]int64{{0, 10}, {100, 200}, {1000, 5000}}, wantGets: 1},
			{name: "far apart", spans: [][2]int64{{0, 10}, {300 << 10, 300<<10 + 10}, {800 << 10, 800<<10 + 10}}, wantGets: 3},
			{name: "close then far", spans: [][2]int64{{0, 10}, {20, 30}, {600 << 10, 600<<10 + 10}}, wantGets: 2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f.reset()
				got, err := ReadSpans(ctx, obj, v, tt.spans)
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range tt.spans {
					if !bytes.Equal(got[i], content[s[0]:s[1]]) {
						t.Errorf("span %d %v: the bytes differ from the object's", i, s)
					}
				}
				if _, _, gets := f.counts(); len(gets) != tt.wantGets {
					t.Errorf("%d GETs %q, want %d", len(gets), gets, tt.wantGets)
				}
			})
		}
	})
}

func TestS3_EmptyObject(t *testing.T) {
	f := newFakeS3(t)
	obj, v := f.pinned(t, "empty.json", nil)
	if v.Size != 0 {
		t.Fatalf("size %d, want 0", v.Size)
	}
	got, err := readAll(t, obj, v)
	if err != nil || len(got) != 0 {
		t.Errorf("stream of an empty object = %d bytes, %v", len(got), err)
	}
}

func TestS3_ChangedAfterPin(t *testing.T) {
	for _, ignoreIfMatch := range []bool{false, true} {
		// With If-Match honoured the store answers 412; without, the
		// answer's ETag differs from the pinned one.
		t.Run(fmt.Sprintf("ignoreIfMatch=%v", ignoreIfMatch), func(t *testing.T) {
			f := newFakeS3(t)
			f.mu.Lock()
			f.ignoreIfMatch = ignoreIfMatch
			f.mu.Unlock()
			content := []byte(strings.Repeat(`{"orgs":[]}`, 1000))
			obj, v := f.pinned(t, "import.json", content)
			f.put(t, "import.json", bytes.ToUpper(content)) // same size, new ETag

			if _, err := ReadRange(context.Background(), obj, v, 0, 10); !errors.Is(err, ErrChanged) {
				t.Errorf("ReadRange: %v, want ErrChanged", err)
			}
			if _, err := readAll(t, obj, v); !errors.Is(err, ErrChanged) {
				t.Errorf("stream: %v, want ErrChanged", err)
			}
			f.mu.Lock()
			refused := f.preconditionFailed
			f.mu.Unlock()
			want := 2 // ReadRange and the stream, each refused once
			if ignoreIfMatch {
				want = 0
			}
			if refused != want {
				t.Errorf("%d GETs refused for their If-Match, want %d", refused, want)
			}
		})
	}
}

// TestS3_ChangedWhileResuming cuts a stream and replaces the object before
// the stream resumes: the resumed read must not splice two versions.
func TestS3_ChangedWhileResuming(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(256<<10, 11)
	obj, v := f.pinned(t, "import.json", content)
	f.cutNextGet(1000)
	r := NewReader(context.Background(), obj, v)
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	f.put(t, "import.json", testContent(256<<10, 12))
	if _, err := io.ReadAll(r); !errors.Is(err, ErrChanged) {
		t.Errorf("resumed stream: %v, want ErrChanged", err)
	}
}

func TestS3_Missing(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()

	t.Run("object", func(t *testing.T) {
		obj := f.open(t, testBucket, "nope/missing.json", testCreds)
		_, err := Pin(ctx, obj)
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("Pin: %v (%T), want *Error", err, err)
		}
		for _, want := range []string{"does not exist", "s3://" + testBucket + "/nope/missing.json", f.endpoint} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to contain %q", err, want)
			}
		}
		// A range read says the same, once: a missing object is not retried.
		f.reset()
		_, err = ReadRange(ctx, obj, Version{Tag: `"x"`, Size: 10}, 0, 10)
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("ReadRange: %v, want *Error saying the object does not exist", err)
		}
		if requests, _, _ := f.counts(); requests != 1 {
			t.Errorf("%d requests, want 1", requests)
		}
	})

	t.Run("bucket", func(t *testing.T) {
		obj := f.open(t, "no-such-bucket", "import.json", testCreds)
		_, err := Pin(ctx, obj)
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("Pin: %v (%T), want *Error", err, err)
		}
		for _, want := range []string{"the bucket does not exist", "s3://no-such-bucket/import.json"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to contain %q", err, want)
			}
		}
		// A GET has a body, which names the missing bucket.
		_, err = ReadRange(ctx, obj, Version{Tag: `"x"`, Size: 10}, 0, 10)
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "the bucket does not exist") {
			t.Errorf("ReadRange: %v, want *Error saying the bucket does not exist", err)
		}
	})
}

func TestS3_WrongAccessKey(t *testing.T) {
	f := newFakeS3(t)
	_, v := f.pinned(t, "import.json", []byte(`{"orgs":[]}`))
	obj := f.open(t, testBucket, "import.json", Credentials{AccessKeyID: "AKIAWRONG", SecretAccessKey: testSecret})
	ctx := context.Background()

	_, err := Pin(ctx, obj)
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("Pin: %v (%T), want *Error", err, err)
	}
	if !strings.Contains(err.Error(), "accessKeyId") {
		t.Errorf("Pin: %q, want it to mention accessKeyId", err)
	}
	_, err = ReadRange(ctx, obj, v, 0, 5)
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "accessKeyId") {
		t.Errorf("ReadRange: %v, want *Error mentioning accessKeyId", err)
	}
	for _, secret := range []string{testSecret, "AKIAWRONG"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows a credential", err)
		}
	}
	if requests, _, _ := f.counts(); requests != 2 {
		t.Errorf("%d requests, want 2: denied access is not retried", requests)
	}
}

// TestS3_ErrorAnswers checks how S3's error answers to a GET are told
// apart: which are retried and what the others say.
func TestS3_ErrorAnswers(t *testing.T) {
	f := newFakeS3(t)
	obj, v := f.pinned(t, "import.json", []byte(`{"orgs":[]}`))
	tests := []struct {
		fault     s3Fault
		wantMsg   string // of the *Error; "" for a transient error
		wantTries int
	}{
		{fault: s3Fault{http.StatusForbidden, "SignatureDoesNotMatch"}, wantMsg: "check secretAccessKey", wantTries: 1},
		{fault: s3Fault{http.StatusForbidden, "AccessDenied"}, wantMsg: "access denied", wantTries: 1},
		{fault: s3Fault{http.StatusNotFound, "NoSuchKey"}, wantMsg: "the object does not exist", wantTries: 1},
		{fault: s3Fault{http.StatusNotFound, "NoSuchBucket"}, wantMsg: "the bucket does not exist", wantTries: 1},
		{fault: s3Fault{http.StatusBadRequest, "InvalidRequest"}, wantMsg: "HTTP 400 (InvalidRequest)", wantTries: 1},
		{fault: s3Fault{http.StatusPreconditionFailed, "PreconditionFailed"}, wantTries: 1},
		{fault: s3Fault{http.StatusServiceUnavailable, "SlowDown"}, wantTries: maxAttempts},
		{fault: s3Fault{http.StatusServiceUnavailable, "ServiceUnavailable"}, wantTries: maxAttempts},
		{fault: s3Fault{http.StatusInternalServerError, "InternalError"}, wantTries: maxAttempts},
		{fault: s3Fault{http.StatusTooManyRequests, "TooManyRequests"}, wantTries: maxAttempts},
		{fault: s3Fault{http.StatusBadRequest, "RequestTimeout"}, wantTries: maxAttempts},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.fault.status, tt.fault.code), func(t *testing.T) {
			f.reset()
			f.failNext(100, tt.fault)
			_, err := ReadRange(context.Background(), obj, v, 0, 5)
			if err == nil {
				t.Fatal("ReadRange succeeded")
			}
			var se *Error
			switch {
			case tt.fault.status == http.StatusPreconditionFailed:
				if !errors.Is(err, ErrChanged) {
					t.Errorf("ReadRange: %v, want ErrChanged", err)
				}
			case tt.wantMsg != "":
				if !errors.As(err, &se) || !strings.Contains(se.Msg, tt.wantMsg) {
					t.Errorf("ReadRange: %v, want *Error containing %q", err, tt.wantMsg)
				}
			default:
				if errors.As(err, &se) {
					t.Errorf("ReadRange: %v is *Error; want the transient error", err)
				}
				if !strings.Contains(err.Error(), "s3://"+testBucket+"/import.json") {
					t.Errorf("error %q does not name the object", err)
				}
			}
			if _, faulted, _ := f.counts(); faulted != tt.wantTries {
				t.Errorf("%d attempts, want %d", faulted, tt.wantTries)
			}
		})
	}
}

func TestS3_TransientThenOK(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(10000, 13)
	obj, v := f.pinned(t, "import.json", content)
	ctx := context.Background()

	t.Run("ReadRange", func(t *testing.T) {
		f.reset()
		f.failNext(2, s3Fault{http.StatusServiceUnavailable, "ServiceUnavailable"})
		got, err := ReadRange(ctx, obj, v, 100, 200)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content[100:200]) {
			t.Error("the bytes differ from the object's")
		}
		if _, faulted, gets := f.counts(); faulted != 2 || len(gets) != 1 {
			t.Errorf("%d faults and %d GETs, want 2 and 1", faulted, len(gets))
		}
	})

	t.Run("Pin", func(t *testing.T) {
		f.reset()
		f.failNext(maxAttempts-1, s3Fault{http.StatusServiceUnavailable, "SlowDown"})
		got, err := Pin(ctx, obj)
		if err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Errorf("Pin = %+v, want %+v", got, v)
		}
	})

	t.Run("stream", func(t *testing.T) {
		f.reset()
		f.failNext(3, s3Fault{http.StatusInternalServerError, "InternalError"})
		got, err := readAll(t, obj, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content) {
			t.Error("the stream differs from the object")
		}
	})
}

// TestS3_NoAnswer closes the connection before an answer: the request is
// retried, as a network error.
func TestS3_NoAnswer(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(10000, 18)
	obj, v := f.pinned(t, "import.json", content)
	ctx := context.Background()
	noAnswer := s3Fault{status: 0}

	f.failNext(2, noAnswer)
	if got, err := Pin(ctx, obj); err != nil || got != v {
		t.Errorf("Pin = %+v, %v; want %+v", got, err, v)
	}

	f.reset()
	f.failNext(2, noAnswer)
	got, err := ReadRange(ctx, obj, v, 10, 20)
	if err != nil {
		t.Fatalf("ReadRange: %v", err)
	}
	if !bytes.Equal(got, content[10:20]) {
		t.Error("the bytes differ from the object's")
	}

	f.reset()
	f.failNext(3, noAnswer)
	all, err := readAll(t, obj, v)
	if err != nil || !bytes.Equal(all, content) {
		t.Errorf("stream: %d bytes, %v; want the object", len(all), err)
	}

	f.reset()
	f.failNext(1000, noAnswer)
	_, err = ReadRange(ctx, obj, v, 10, 20)
	var se *Error
	if err == nil || errors.As(err, &se) {
		t.Errorf("ReadRange with no answer ever: %v, want a transient error", err)
	}
	// net/http itself repeats an idempotent request once on a reused
	// connection that closed, so the count is not exact.
	if requests, _, _ := f.counts(); requests < maxAttempts || requests > 2*maxAttempts {
		t.Errorf("%d requests, want %d to %d", requests, maxAttempts, 2*maxAttempts)
	}
}

// TestS3_ConnectionRefused reads from a listed endpoint where nothing
// listens: the error is the network's, retried, not a *Error.
func TestS3_ConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := l.Addr().String()
	l.Close()
	loc := Location{Kind: KindS3, Endpoint: endpoint, Bucket: testBucket, Path: "import.json"}
	obj, err := Open(context.Background(), Config{S3Endpoints: mustAllowList(t, endpoint)}, loc, testCreds)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	_, err = Pin(context.Background(), obj)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Pin: %v, want ECONNREFUSED", err)
	}
	var se *Error
	if errors.As(err, &se) {
		t.Errorf("Pin: %v is *Error; a refused connection may mend", err)
	}
	if !strings.Contains(err.Error(), "s3://"+testBucket+"/import.json") {
		t.Errorf("error %q does not name the object", err)
	}
}

// TestS3_UntrustedCertificate reads over https from an endpoint whose
// certificate no system root signed: a *Error that says so, once.
func TestS3_UntrustedCertificate(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake fails, as it should
	srv.StartTLS()
	defer srv.Close()
	endpoint := srv.Listener.Addr().String()
	loc := Location{Kind: KindS3, Endpoint: endpoint, SSL: true, Bucket: testBucket, Path: "import.json"}
	obj, err := Open(context.Background(), Config{S3Endpoints: mustAllowList(t, endpoint)}, loc, testCreds)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	_, err = Pin(context.Background(), obj)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "certificate") {
		t.Fatalf("Pin: %v, want *Error about the certificate", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the server answered %d requests, want 0", n)
	}
}

// TestS3_UnavailableForever checks that reads give up after maxAttempts.
func TestS3_UnavailableForever(t *testing.T) {
	f := newFakeS3(t)
	obj, v := f.pinned(t, "import.json", testContent(1000, 14))
	ctx := context.Background()
	fault := s3Fault{http.StatusServiceUnavailable, "ServiceUnavailable"}

	f.failNext(1000, fault)
	if _, err := ReadRange(ctx, obj, v, 0, 10); err == nil {
		t.Fatal("ReadRange succeeded")
	}
	if requests, _, _ := f.counts(); requests != maxAttempts {
		t.Errorf("ReadRange: %d requests, want %d", requests, maxAttempts)
	}

	f.reset()
	f.failNext(1000, fault)
	if _, err := readAll(t, obj, v); err == nil {
		t.Fatal("stream succeeded")
	}
	if requests, _, _ := f.counts(); requests != maxAttempts {
		t.Errorf("stream: %d requests, want %d", requests, maxAttempts)
	}

	f.reset()
	f.failNext(1000, fault)
	if _, err := Pin(ctx, obj); err == nil {
		t.Fatal("Pin succeeded")
	}
	if requests, _, _ := f.counts(); requests != maxAttempts {
		t.Errorf("Pin: %d requests, want %d", requests, maxAttempts)
	}
}

// TestS3_StreamResumes cuts the stream's body: NewReader resumes with a
// range read from where it broke.
func TestS3_StreamResumes(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(700<<10, 15)
	obj, v := f.pinned(t, "import.json", content)

	const cut = 300000
	f.cutNextGet(cut)
	got, err := readAll(t, obj, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("the resumed stream has %d bytes that differ from the object's %d", len(got), len(content))
	}
	_, _, gets := f.counts()
	want := []string{"bytes=0-", fmt.Sprintf("bytes=%d-", cut)}
	if strings.Join(gets, " ") != strings.Join(want, " ") {
		t.Errorf("GETs with ranges %q, want %q", gets, want)
	}
}

// TestS3_StalledStream: a server that stops sending in the middle of the
// stream does not hold the reader: after stallTimeout the connection is
// closed and the stream resumes where it stopped.
func TestS3_StalledStream(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(700<<10, 16)
	obj, v := f.pinned(t, "import.json", content)

	const cut = 200000
	f.mu.Lock()
	f.cutAfter, f.stall = cut, true
	f.mu.Unlock()
	got, err := readAll(t, obj, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("the resumed stream has %d bytes that differ from the object's %d", len(got), len(content))
	}
	_, _, gets := f.counts()
	if len(gets) != 2 || !strings.HasPrefix(gets[1], "bytes=") || gets[1] == "bytes=0-" {
		t.Errorf("GETs with ranges %q, want a resumption after the stall", gets)
	}
}

// TestS3_StreamCutTwice cuts the stream, then fails the resumption a few
// times: the stream still ends with the whole object.
func TestS3_StreamCutTwice(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(100<<10, 16)
	obj, v := f.pinned(t, "import.json", content)

	r := NewReader(context.Background(), obj, v)
	defer r.Close()
	f.cutNextGet(1)
	head := make([]byte, 1)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	f.failNext(2, s3Fault{http.StatusServiceUnavailable, "SlowDown"})
	f.cutNextGet(5000)
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), content) {
		t.Error("the stream differs from the object")
	}
}

func TestS3_RangeCutIsRetried(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(100<<10, 17)
	obj, v := f.pinned(t, "import.json", content)
	f.cutNextGet(10)
	got, err := ReadRange(context.Background(), obj, v, 1000, 50000)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content[1000:50000]) {
		t.Error("the bytes differ from the object's")
	}
	if _, _, gets := f.counts(); len(gets) != 2 {
		t.Errorf("%d GETs, want 2", len(gets))
	}
}

// TestS3_EndpointNotAllowed checks that an endpoint outside the allow-list
// is refused before any request.
func TestS3_EndpointNotAllowed(t *testing.T) {
	f := newFakeS3(t)
	f.put(t, "import.json", []byte("{}"))
	f.reset()
	_, port, _ := net.SplitHostPort(f.endpoint)
	for _, cfg := range []Config{
		{},
		{S3Endpoints: mustAllowList(t, "127.0.0.1:1")},
		{S3Endpoints: mustAllowList(t, "localhost:"+port)},
	} {
		obj, err := Open(context.Background(), cfg, f.loc(testBucket, "import.json"), testCreds)
		if err == nil {
			obj.Close()
			t.Fatalf("Open with allow-list %q succeeded", cfg.S3Endpoints)
		}
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "ZIMPORT_S3_ALLOWED_ENDPOINTS") {
			t.Errorf("Open with allow-list %q: %v, want *Error naming ZIMPORT_S3_ALLOWED_ENDPOINTS", cfg.S3Endpoints, err)
		}
	}
	if requests, _, _ := f.counts(); requests != 0 {
		t.Errorf("the server answered %d requests, want 0", requests)
	}
}

// TestS3_ListedName checks an endpoint listed by name that resolves to
// loopback: being listed lets it.
func TestS3_ListedName(t *testing.T) {
	f := newFakeS3(t)
	f.put(t, "import.json", []byte(`{"orgs":[]}`))
	_, port, _ := net.SplitHostPort(f.endpoint)
	loc := f.loc(testBucket, "import.json")
	loc.Endpoint = "localhost:" + port
	obj, err := Open(context.Background(), Config{S3Endpoints: mustAllowList(t, loc.Endpoint)}, loc, testCreds)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if _, err := Pin(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func TestS3_BadLocation(t *testing.T) {
	f := newFakeS3(t)
	for _, loc := range []Location{
		{Kind: KindS3, Endpoint: f.endpoint, Path: "import.json"},
		{Kind: KindS3, Endpoint: f.endpoint, Bucket: testBucket},
		{Kind: KindS3, Endpoint: "http://" + f.endpoint, Bucket: testBucket, Path: "x"},
		{Kind: KindS3, Endpoint: "169.254.169.254", Bucket: testBucket, Path: "x"},
	} {
		obj, err := Open(context.Background(), f.config(t), loc, testCreds)
		if err == nil {
			obj.Close()
			t.Errorf("Open(%+v) succeeded", loc)
			continue
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("Open(%+v): %v (%T), want *Error", loc, err, err)
		}
	}
	if requests, _, _ := f.counts(); requests != 0 {
		t.Errorf("the server answered %d requests, want 0", requests)
	}
}

// TestS3_Region checks that requests are signed for the configured
// region, us-east-1 by default.
func TestS3_Region(t *testing.T) {
	f := newFakeS3(t)
	f.put(t, "import.json", []byte("{}"))
	for _, region := range []string{"", "eu-west-3"} {
		f.reset()
		cfg := f.config(t)
		cfg.S3Region = region
		obj, err := Open(context.Background(), cfg, f.loc(testBucket, "import.json"), testCreds)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Pin(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
		obj.Close()
		f.mu.Lock()
		scopes := f.scopes
		f.mu.Unlock()
		want := cmpOr(region, "us-east-1")
		if len(scopes) != 1 || !strings.Contains(scopes[0], "/"+want+"/s3/") {
			t.Errorf("region %q: credential scopes %q, want one for %s", region, scopes, want)
		}
	}
}

// clearAWSEnv makes the default AWS credential chain find nothing but
// what the test sets.
func clearAWSEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_ROLE_ARN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED",
	} {
		t.Setenv(k, "")
	}
}

// TestS3_AmbientCredentials reads with the environment's keys when the
// request gives none.
func TestS3_AmbientCredentials(t *testing.T) {
	f := newFakeS3(t)
	content := []byte(`{"orgs":[{"id":"1"}]}`)
	f.put(t, "import.json", content)
	clearAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)

	obj := f.open(t, testBucket, "import.json", Credentials{})
	v, err := Pin(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, obj, v)
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("stream = %q, %v; want the object", got, err)
	}
}

// TestS3_NoCredentials checks that without keys, and with the instance
// metadata service off, no request is made and the error says what to give.
func TestS3_NoCredentials(t *testing.T) {
	f := newFakeS3(t)
	f.put(t, "import.json", []byte("{}"))
	f.reset()
	clearAWSEnv(t)

	obj := f.open(t, testBucket, "import.json", Credentials{})
	_, err := Pin(context.Background(), obj)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "accessKeyId") {
		t.Errorf("Pin: %v, want *Error asking for accessKeyId", err)
	}
	if requests, _, _ := f.counts(); requests != 0 {
		t.Errorf("the server answered %d requests, want 0", requests)
	}
}

func mustAllowList(t testing.TB, s string) AllowList {
	t.Helper()
	a, err := ParseAllowList(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestS3_RangeIgnored: a store that answers a range read with the whole
// object is refused with a clear error, never read as if it were the range.
func TestS3_RangeIgnored(t *testing.T) {
	f := newFakeS3(t)
	content := testContent(64<<10, 17)
	obj, v := f.pinned(t, "import.json", content)
	f.mu.Lock()
	f.ignoreRange = true
	f.mu.Unlock()
	_, err := ReadRange(context.Background(), obj, v, 100, 200)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "must support range reads") {
		t.Fatalf("ReadRange = %v, want an *Error saying range reads are needed", err)
	}
}
