package source

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

const gcsBucket = "zimport-imports"

// fakeGCS is fake-gcs-server behind a middleware that counts requests and
// can be made to fail: answer errors for the next requests, or cut the body
// of the next download. STORAGE_EMULATOR_HOST points at it.
type fakeGCS struct {
	gcs *fakestorage.Server
	srv *httptest.Server

	mu       sync.Mutex
	faults   []int // HTTP status codes, one per request
	cutAfter int64 // >= 0: cut the next download after that many bytes
	requests int
	faulted  int
	// downloads are the Range headers of the media downloads, in order.
	downloads []string
}

// newFakeGCS starts the emulator and sets STORAGE_EMULATOR_HOST to
// emulatorHost(url of the server).
func newFakeGCS(t *testing.T, emulatorHost func(url string) string) *fakeGCS {
	t.Helper()
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme:     "http",
		Host:       "127.0.0.1",
		NoListener: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gcs.Stop)
	gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: gcsBucket})
	f := &fakeGCS{gcs: gcs, cutAfter: -1}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	t.Setenv("STORAGE_EMULATOR_HOST", emulatorHost(f.srv.URL))
	return f
}

func (f *fakeGCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	if len(f.faults) > 0 {
		status := f.faults[0]
		f.faults = f.faults[1:]
		f.faulted++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":"injected by the test","errors":[{"reason":"backendError","message":"injected by the test"}]}}`, status)
		return
	}
	cut := int64(-1)
	if r.URL.Query().Get("alt") == "media" || strings.HasPrefix(r.URL.Path, "/download/") {
		f.downloads = append(f.downloads, r.Header.Get("Range"))
		cut, f.cutAfter = f.cutAfter, -1
	}
	f.mu.Unlock()
	if cut < 0 {
		f.gcs.HTTPHandler().ServeHTTP(w, r)
		return
	}
	serveCut(w, r, f.gcs.HTTPHandler(), cut)
}

// failNext answers the next n requests with status.
func (f *fakeGCS) failNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
	for range n {
		f.faults = append(f.faults, status)
	}
}

func (f *fakeGCS) cutNextDownload(k int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutAfter = k
}

func (f *fakeGCS) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults, f.cutAfter, f.requests, f.faulted, f.downloads = nil, -1, 0, 0, nil
}

func (f *fakeGCS) counts() (requests, faulted int, downloads []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.faulted, append([]string(nil), f.downloads...)
}

// put stores content as generation gen of name (gen 0 lets the emulator
// choose).
func (f *fakeGCS) put(name string, content []byte, gen int64) {
	f.gcs.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: gcsBucket, Name: name, Generation: gen},
		Content:     content,
	})
}

func gcsLoc(bucket, name string) Location {
	return Location{Kind: KindGCS, Bucket: bucket, Path: name}
}

func (f *fakeGCS) open(t testing.TB, bucket, name string, creds Credentials) Object {
	t.Helper()
	obj, err := Open(context.Background(), Config{}, gcsLoc(bucket, name), creds)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { obj.Close() })
	return obj
}

// pinned puts content at name as generation gen and returns the object
// opened and pinned.
func (f *fakeGCS) pinned(t testing.TB, name string, content []byte, gen int64) (Object, Version) {
	t.Helper()
	f.put(name, content, gen)
	obj := f.open(t, gcsBucket, name, Credentials{})
	v, err := Pin(context.Background(), obj)
	if err != nil {
		t.Fatalf("Pin: %v", err)
	}
	f.reset()
	return obj, v
}

// emulatorHosts are the forms of STORAGE_EMULATOR_HOST the client takes.
var emulatorHosts = map[string]func(string) string{
	"with scheme":    func(u string) string { return u },
	"without scheme": func(u string) string { return strings.TrimPrefix(u, "http://") },
}

func TestGCS_Read(t *testing.T) {
	for name, host := range emulatorHosts {
		t.Run(name, func(t *testing.T) {
			f := newFakeGCS(t, host)
			content := testContent(900<<10, 20)
			obj, v := f.pinned(t, "dir/sub dir/import ä.json", content, 1001)
			ctx := context.Background()
			if v != (Version{Tag: "1001", Size: int64(len(content))}) {
				t.Fatalf("version %+v, want generation 1001 and size %d", v, len(content))
			}

			got, err := readAll(t, obj, v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, content) {
				t.Errorf("the stream has %d bytes that differ from the object", len(got))
			}

			size := int64(len(content))
			for _, r := range [][2]int64{{0, 1}, {0, 1000}, {1000, 2000}, {size - 10, size}, {0, size}, {7, 7}} {
				got, err := ReadRange(ctx, obj, v, r[0], r[1])
				if err != nil {
					t.Fatalf("ReadRange %v: %v", r, err)
				}
				if !bytes.Equal(got, content[r[0]:r[1]]) {
					t.Errorf("ReadRange %v: the bytes differ from the object's", r)
				}
			}

			f.reset()
			spans := [][2]int64{{0, 10}, {20, 30}, {600 << 10, 600<<10 + 10}}
			parts, err := ReadSpans(ctx, obj, v, spans)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range spans {
				if !bytes.Equal(parts[i], content[s[0]:s[1]]) {
					t.Errorf("span %d %v: the bytes differ from the object's", i, s)
				}
			}
			if _, _, downloads := f.counts(); len(downloads) != 2 {
				t.Errorf("%d downloads %q, want 2", len(downloads), downloads)
			}
		})
	}
}

func TestGCS_EmptyObject(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	obj, v := f.pinned(t, "empty.json", nil, 0)
	if v.Size != 0 {
		t.Fatalf("size %d, want 0", v.Size)
	}
	got, err := readAll(t, obj, v)
	if err != nil || len(got) != 0 {
		t.Errorf("stream of an empty object = %d bytes, %v", len(got), err)
	}
}

func TestGCS_ChangedAfterPin(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	content := []byte(strings.Repeat(`{"orgs":[]}`, 1000))
	obj, v := f.pinned(t, "import.json", content, 1001)
	f.put("import.json", bytes.ToUpper(content), 1002) // same size, new generation

	if _, err := ReadRange(context.Background(), obj, v, 0, 10); !errors.Is(err, ErrChanged) {
		t.Errorf("ReadRange: %v, want ErrChanged", err)
	}
	if _, err := readAll(t, obj, v); !errors.Is(err, ErrChanged) {
		t.Errorf("stream: %v, want ErrChanged", err)
	}
	now, err := Pin(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	if now.Tag != "1002" {
		t.Errorf("Pin after the change = %+v, want generation 1002", now)
	}
}

// TestGCS_ChangedWhileResuming cuts a stream and replaces the object before
// the stream resumes: the resumed read must not splice two generations.
func TestGCS_ChangedWhileResuming(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	content := testContent(256<<10, 21)
	obj, v := f.pinned(t, "import.json", content, 1001)
	f.cutNextDownload(1000)
	r := NewReader(context.Background(), obj, v)
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	f.put("import.json", testContent(256<<10, 22), 1002)
	if _, err := io.ReadAll(r); !errors.Is(err, ErrChanged) {
		t.Errorf("resumed stream: %v, want ErrChanged", err)
	}
}

func TestGCS_Missing(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	ctx := context.Background()
	for _, tt := range []struct {
		name, bucket, path, want string
	}{
		{name: "object", bucket: gcsBucket, path: "nope/missing.json", want: "the object does not exist"},
		{name: "bucket", bucket: "no-such-bucket", path: "import.json", want: "the bucket does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.reset()
			obj := f.open(t, tt.bucket, tt.path, Credentials{})
			_, err := Pin(ctx, obj)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Pin: %v (%T), want *Error", err, err)
			}
			for _, want := range []string{tt.want, "gs://" + tt.bucket + "/" + tt.path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q, want it to contain %q", err, want)
				}
			}
			// The object's attributes, then the bucket's: nothing retried.
			if requests, _, _ := f.counts(); requests != 2 {
				t.Errorf("%d requests, want 2: a missing object is not retried", requests)
			}
		})
	}
}

func TestGCS_ErrorAnswers(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	obj, v := f.pinned(t, "import.json", []byte(`{"orgs":[]}`), 1001)
	tests := []struct {
		status    int
		wantMsg   string // of the *Error; "" for a transient error
		wantTries int
	}{
		{status: http.StatusForbidden, wantMsg: "access denied", wantTries: 1},
		{status: http.StatusUnauthorized, wantMsg: "access denied", wantTries: 1},
		{status: http.StatusBadRequest, wantMsg: "HTTP 400", wantTries: 1},
		{status: http.StatusPreconditionFailed, wantTries: 1},
		{status: http.StatusServiceUnavailable, wantTries: maxAttempts},
		{status: http.StatusInternalServerError, wantTries: maxAttempts},
		{status: http.StatusTooManyRequests, wantTries: maxAttempts},
	}
	for _, tt := range tests {
		for _, op := range []string{"Pin", "ReadRange"} {
			t.Run(fmt.Sprintf("%d %s", tt.status, op), func(t *testing.T) {
				f.reset()
				f.failNext(100, tt.status)
				var err error
				if op == "Pin" {
					_, err = Pin(context.Background(), obj)
				} else {
					_, err = ReadRange(context.Background(), obj, v, 0, 5)
				}
				if err == nil {
					t.Fatal("succeeded")
				}
				var se *Error
				switch {
				case tt.status == http.StatusPreconditionFailed:
					if !errors.Is(err, ErrChanged) {
						t.Errorf("%v, want ErrChanged", err)
					}
				case tt.wantMsg != "":
					if !errors.As(err, &se) || !strings.Contains(se.Msg, tt.wantMsg) {
						t.Errorf("%v, want *Error containing %q", err, tt.wantMsg)
					}
				default:
					if errors.As(err, &se) {
						t.Errorf("%v is *Error; want the transient error", err)
					}
					if !strings.Contains(err.Error(), "gs://"+gcsBucket+"/import.json") {
						t.Errorf("error %q does not name the object", err)
					}
				}
				if _, faulted, _ := f.counts(); faulted != tt.wantTries {
					t.Errorf("%d attempts, want %d", faulted, tt.wantTries)
				}
			})
		}
	}
}

func TestGCS_TransientThenOK(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	content := testContent(10000, 23)
	obj, v := f.pinned(t, "import.json", content, 1001)

	f.failNext(2, http.StatusServiceUnavailable)
	got, err := ReadRange(context.Background(), obj, v, 100, 200)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content[100:200]) {
		t.Error("the bytes differ from the object's")
	}

	f.reset()
	f.failNext(2, http.StatusServiceUnavailable)
	if got, err := Pin(context.Background(), obj); err != nil || got != v {
		t.Errorf("Pin = %+v, %v; want %+v", got, err, v)
	}
}

// TestGCS_StreamResumes cuts the stream's body: NewReader resumes with a
// range read from where it broke.
func TestGCS_StreamResumes(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	content := testContent(700<<10, 24)
	obj, v := f.pinned(t, "import.json", content, 1001)

	const cut = 300000
	f.cutNextDownload(cut)
	got, err := readAll(t, obj, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("the resumed stream has %d bytes that differ from the object's %d", len(got), len(content))
	}
	_, _, downloads := f.counts()
	if len(downloads) != 2 || !strings.HasPrefix(downloads[1], fmt.Sprintf("bytes=%d-", cut)) {
		t.Errorf("downloads with ranges %q, want a second one from %d", downloads, cut)
	}
}

// rsaKeyPEM is a PKCS #8 RSA key made once for the service-account tests.
var rsaKeyPEM = sync.OnceValue(func() string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
})

// serviceAccount returns a service-account key JSON with fields changed by
// edit (a nil value deletes the field).
func serviceAccount(t testing.TB, edit map[string]any) []byte {
	t.Helper()
	sa := map[string]any{
		"type":                        "service_account",
		"project_id":                  "zimport-test",
		"private_key_id":              "0123456789abcdef",
		"private_key":                 rsaKeyPEM(),
		"client_email":                "importer@zimport-test.iam.gserviceaccount.com",
		"client_id":                   "123456789",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   "https://oauth2.googleapis.com/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}
	for k, v := range edit {
		if v == nil {
			delete(sa, k)
		} else {
			sa[k] = v
		}
	}
	b, err := json.Marshal(sa)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckServiceAccount(t *testing.T) {
	tests := []struct {
		name    string
		json    []byte
		wantErr string // substring; "" for no error
	}{
		{name: "valid", json: serviceAccount(t, nil)},
		{name: "no token_uri", json: serviceAccount(t, map[string]any{"token_uri": nil})},
		{name: "authorized_user", json: serviceAccount(t, map[string]any{"type": "authorized_user"}), wantErr: `"service_account"`},
		{name: "external_account", json: serviceAccount(t, map[string]any{
			"type":              "external_account",
			"credential_source": map[string]any{"file": "/etc/passwd"},
		}), wantErr: `"service_account"`},
		{name: "impersonated", json: serviceAccount(t, map[string]any{"type": "impersonated_service_account"}), wantErr: `"service_account"`},
		{name: "no type", json: serviceAccount(t, map[string]any{"type": nil}), wantErr: `"service_account"`},
		{name: "type case", json: serviceAccount(t, map[string]any{"type": "Service_Account"}), wantErr: `"service_account"`},
		{name: "other token_uri", json: serviceAccount(t, map[string]any{"token_uri": "https://attacker.example/token"}), wantErr: "token_uri must be https://oauth2.googleapis.com/token"},
		{name: "metadata token_uri", json: serviceAccount(t, map[string]any{"token_uri": "http://169.254.169.254/token"}), wantErr: "token_uri"},
		{name: "http token_uri", json: serviceAccount(t, map[string]any{"token_uri": "http://oauth2.googleapis.com/token"}), wantErr: "token_uri"},
		{name: "token_uri with a suffix", json: serviceAccount(t, map[string]any{"token_uri": "https://oauth2.googleapis.com/token.attacker.example"}), wantErr: "token_uri"},
		{name: "no client_email", json: serviceAccount(t, map[string]any{"client_email": nil}), wantErr: "client_email"},
		{name: "no private_key", json: serviceAccount(t, map[string]any{"private_key": nil}), wantErr: "private_key"},
		{name: "type not a string", json: serviceAccount(t, map[string]any{"type": 1}), wantErr: "not a service-account JSON"},
		{name: "malformed", json: []byte(`{"type":"service_account",`), wantErr: "not a service-account JSON"},
		{name: "array", json: []byte(`[]`), wantErr: "not a service-account JSON"},
		{name: "empty", json: nil, wantErr: "not a service-account JSON"},
		{name: "null", json: []byte(`null`), wantErr: `"service_account"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckServiceAccount(tt.json)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckServiceAccount: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckServiceAccount = nil, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckServiceAccount = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), rsaKeyPEM()[40:80]) {
				t.Errorf("error %q shows the private key", err)
			}
		})
	}
}

// TestGCS_ServiceAccount opens objects with a service-account key: against
// the emulator a valid key works; an invalid one is refused before any
// request.
func TestGCS_ServiceAccount(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	content := []byte(`{"orgs":[{"id":"1"}]}`)
	f.put("import.json", content, 0)
	ctx := context.Background()

	obj := f.open(t, gcsBucket, "import.json", Credentials{ServiceAccountJSON: serviceAccount(t, nil)})
	v, err := Pin(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, obj, v)
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("stream = %q, %v; want the object", got, err)
	}

	f.reset()
	for _, bad := range [][]byte{
		serviceAccount(t, map[string]any{"token_uri": "https://attacker.example/token"}),
		serviceAccount(t, map[string]any{"type": "external_account"}),
		[]byte("{not json"),
	} {
		obj, err := Open(ctx, Config{}, gcsLoc(gcsBucket, "import.json"), Credentials{ServiceAccountJSON: bad})
		if err == nil {
			obj.Close()
			t.Errorf("Open with %.40q succeeded", bad)
			continue
		}
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "serviceaccountJson") {
			t.Errorf("Open: %v, want *Error naming serviceaccountJson", err)
		}
		if !strings.Contains(err.Error(), "gs://"+gcsBucket+"/import.json") {
			t.Errorf("error %q does not name the object", err)
		}
	}
	if requests, _, _ := f.counts(); requests != 0 {
		t.Errorf("the emulator answered %d requests, want 0", requests)
	}
}

func TestGCS_BadLocation(t *testing.T) {
	newFakeGCS(t, emulatorHosts["with scheme"])
	for _, loc := range []Location{
		{Kind: KindGCS, Path: "import.json"},
		{Kind: KindGCS, Bucket: gcsBucket},
	} {
		obj, err := Open(context.Background(), Config{}, loc, Credentials{})
		if err == nil {
			obj.Close()
			t.Errorf("Open(%+v) succeeded", loc)
			continue
		}
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "required") {
			t.Errorf("Open(%+v): %v, want *Error saying bucket and path are required", loc, err)
		}
	}
}

// TestGCS_StreamCutThenUnavailable cuts the stream and fails the reads
// that resume it a few times: the storage client's reader reopens itself
// and reports the 503 on Read, which must count as transient too.
func TestGCS_StreamCutThenUnavailable(t *testing.T) {
	f := newFakeGCS(t, emulatorHosts["with scheme"])
	content := testContent(200<<10, 25)
	obj, v := f.pinned(t, "import.json", content, 1001)

	r := NewReader(context.Background(), obj, v)
	defer r.Close()
	f.cutNextDownload(5000)
	head := make([]byte, 5000)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	f.failNext(3, http.StatusServiceUnavailable)
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), content) {
		t.Error("the stream differs from the object")
	}
	if _, faulted, _ := f.counts(); faulted != 3 {
		t.Errorf("%d faults answered, want 3", faulted)
	}
}

// TestGCS_ConnectionRefused reads where nothing listens: the error is the
// network's, retried, not a *Error.
func TestGCS_ConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("STORAGE_EMULATOR_HOST", "http://"+addr)
	obj, err := Open(context.Background(), Config{}, gcsLoc(gcsBucket, "import.json"), Credentials{})
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
}
