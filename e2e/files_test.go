package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/redis/go-redis/v9"

	"github.com/zimport/zimport/gen"
)

// Keys of the e2e S3 server; another access key id is refused.
const (
	s3AccessKey = "e2e-access-key"
	s3SecretKey = "e2e-SECRET-do-not-leak-7f3a91"
	fileBucket  = "imports"
)

// fileServers are the storage of the file-source tests, real servers that
// the worker processes reach over HTTP: an S3 server (gofakes3) that checks
// the access key id, a GCS emulator (fake-gcs-server) and a local import
// directory.
type fileServers struct {
	t          testing.TB
	s3         *s3.Client
	s3Endpoint string // host:port
	s3Requests atomic.Int64
	gcs        *fakestorage.Server
	dir        string
}

// accessKeyOf matches the access key id of a SigV4 Authorization header.
var accessKeyOf = regexp.MustCompile(`Credential=([^/]+)/`)

func newFileServers(t testing.TB) *fileServers {
	t.Helper()
	f := &fileServers{t: t, dir: t.TempDir()}
	fake := gofakes3.New(s3mem.New()).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.s3Requests.Add(1)
		if m := accessKeyOf.FindStringSubmatch(r.Header.Get("Authorization")); m == nil || m[1] != s3AccessKey {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>`)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.s3Endpoint = strings.TrimPrefix(srv.URL, "http://")
	f.s3 = s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s3AccessKey, s3SecretKey, ""),
	})
	if _, err := f.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(fileBucket)}); err != nil {
		t.Fatal(err)
	}
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Writer: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gcs.Stop)
	gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: fileBucket})
	f.gcs = gcs
	return f
}

// env is the configuration that lets zimport read the servers' files.
func (f *fileServers) env() []string {
	return []string{
		"ZIMPORT_LOCAL_IMPORT_DIR=" + f.dir,
		"ZIMPORT_LOCAL_IMPORT_SHARED=true", // TestFiles_LocalPerInstance tests the default
		"ZIMPORT_S3_ALLOWED_ENDPOINTS=" + f.s3Endpoint,
		"STORAGE_EMULATOR_HOST=" + f.gcs.URL(),
	}
}

// put stores data as name in the local directory and in both buckets.
func (f *fileServers) put(name string, data []byte) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(f.dir, name)), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, name), data, 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.putS3(name, data)
	f.gcs.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: fileBucket, Name: name}, Content: data})
}

func (f *fileServers) putS3(name string, data []byte) {
	f.t.Helper()
	_, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(fileBucket), Key: aws.String(name), Body: bytes.NewReader(data)})
	if err != nil {
		f.t.Fatal(err)
	}
}

// request returns an ImportDataRequest body for file name from src
// ("local", "s3" or "gcs"), v1 or v2, with extra members.
func (f *fileServers) request(src, name string, v1 bool, extra obj) []byte {
	f.t.Helper()
	field := map[string]string{"local": "dataOrgsLocal", "s3": "dataOrgsS3", "gcs": "dataOrgsGcs"}[src]
	if v1 {
		field = strings.Replace(field, "dataOrgs", "dataOrgsv1", 1)
	}
	var input obj
	switch src {
	case "local":
		input = obj{"path": name}
	case "s3":
		input = obj{"endpoint": f.s3Endpoint, "ssl": false, "bucket": fileBucket, "path": name,
			"accessKeyId": s3AccessKey, "secretAccessKey": s3SecretKey}
	case "gcs":
		input = obj{"bucket": fileBucket, "path": name, "serviceaccountJson": base64.StdEncoding.EncodeToString(testServiceAccount(f.t))}
	}
	body := obj{field: input, "timeout": "10m"}
	for k, v := range extra {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// inline wraps file data as an inline ImportDataRequest body.
func inline(data []byte, v1 bool) []byte {
	field := "dataOrgs"
	if v1 {
		field = "dataOrgsv1"
	}
	return []byte(`{"timeout":"10m","` + field + `":` + string(data) + `}`)
}

// memberOf returns the raw JSON of member name of a JSON object.
func memberOf(t testing.TB, body []byte, name string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m[name] == nil {
		t.Fatalf("no member %s", name)
	}
	return m[name]
}

// importedRows returns the directory rows of an instance that mention
// marker (the ids of the imported data), without the values zimport
// generates anew in each run, sorted.
func importedRows(s *stack, instanceID, marker string) map[string][]string {
	out := map[string][]string{}
	for _, table := range directoryTables {
		drop := append([]string{}, generatedColumns[table]...) // never NULL: jsonb - NULL is NULL
		var rows []string
		for _, r := range s.query(`SELECT (to_jsonb(t) - 'instance_id' - 'created_at' - $2::text[])::text FROM `+table+` t WHERE instance_id = $1`, instanceID, drop) {
			if strings.Contains(r[0], marker) {
				rows = append(rows, r[0])
			}
		}
		sort.Strings(rows)
		out[table] = rows
	}
	return out
}

// generatedColumns are the directory columns whose values zimport makes
// anew in each run.
var generatedColumns = map[string][]string{
	"user_grants":        {"id"},
	"apps":               {"client_id", "client_secret_hash"},
	"app_keys":           {"client_id"},
	"idps":               {"client_secret_sealed"},
	"user_otp":           {"secret_sealed"},
	"passwordless_codes": {"code_hash", "expires_at"},
}

// testServiceAccount returns a service-account JSON key (of a key made for
// the test); the GCS emulator takes any.
func testServiceAccount(t testing.TB) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(obj{
		"type": "service_account", "project_id": "e2e", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "importer@e2e.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
	return b
}

// generated returns a generated import file.
func generated(t testing.TB, o gen.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// outcome is what an import did: its normalized result, its progress and
// the rows it wrote.
type outcome struct {
	Result   string
	Progress any
	Rows     map[string][]string
}

// importOutcome submits body into a new instance and returns its outcome.
func importOutcome(t testing.TB, s *stack, name string, body []byte, marker, wantStatus string) outcome {
	t.Helper()
	instanceID, pat := s.createInstance(name)
	id := s.submit(pat, body)
	job := s.waitJob(id, pat, 5*time.Minute)
	if job["status"] != wantStatus {
		t.Fatalf("%s: status = %v, want %s: %v", name, job["status"], wantStatus, job)
	}
	res := runValues.ReplaceAll(normalizeResult(t, s.result(id, pat)), []byte("${1}${3}${4}…${2}"))
	return outcome{Result: string(res), Progress: job["progress"], Rows: importedRows(s, instanceID, marker)}
}

// TestFiles_SameResultFromEverySource imports the same data inline, from a
// local file, from S3 and from GCS, in v2 and in v1, and requires
// byte-identical results, progress and rows; the files of the golden tests
// give their goldens from a file too.
func TestFiles_SameResultFromEverySource(t *testing.T) {
	f := newFileServers(t)
	s := newStack(t, append(f.env(), "ZIMPORT_CHUNK_SIZE=70")...)
	s.startWorker("worker")

	for _, v1 := range []bool{false, true} {
		data := generated(t, gen.Options{Orgs: 3, Users: 160, Grants: true, Metadata: 0.5, Members: 0.3, Bad: 0.05, Seed: 11, V1: v1, OrgPrefix: "gf-"})
		name := fmt.Sprintf("gen/v1-%v.json", v1)
		f.put(name, data)
		want := importOutcome(t, s, fmt.Sprintf("inline v1=%v", v1), inline(data, v1), "gf-", "completed_with_errors")
		if len(want.Rows["users"]) == 0 || len(want.Rows["user_grants"]) == 0 || len(want.Rows["user_metadata"]) == 0 {
			t.Fatalf("the inline import wrote too little: %d users, %d grants, %d metadata",
				len(want.Rows["users"]), len(want.Rows["user_grants"]), len(want.Rows["user_metadata"]))
		}
		for _, src := range []string{"local", "s3", "gcs"} {
			got := importOutcome(t, s, fmt.Sprintf("%s v1=%v", src, v1), f.request(src, name, v1, nil), "gf-", "completed_with_errors")
			// The one difference: bytesTotal is the size of the file, with
			// its final newline, or of the inline JSON value, without.
			if p := got.Progress.(map[string]any); p["bytesTotal"] != fmt.Sprint(len(data)) {
				t.Errorf("%s: bytesTotal = %v, want the file's size %d", src, p["bytesTotal"], len(data))
			} else {
				p["bytesTotal"] = want.Progress.(map[string]any)["bytesTotal"]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (v1=%v) differs from inline (-inline +%s):\n%s", src, v1, src, diff)
			}
		}
	}

	allkinds := memberOf(t, mustRead(t, "testdata/allkinds.json"), "dataOrgs")
	f.put("allkinds.json", allkinds)
	got := importOutcome(t, s, "allkinds from S3", f.request("s3", "allkinds.json", false, nil), "\"", "completed_with_errors")
	compareGolden(t, "testdata/allkinds.golden.json", []byte(got.Result))

	v1 := memberOf(t, mustRead(t, "testdata/v1.json"), "dataOrgsv1")
	f.put("v1/file.json", v1)
	got = importOutcome(t, s, "v1 from GCS", f.request("gcs", "v1/file.json", true, nil), "\"", "completed_with_errors")
	compareGolden(t, "testdata/v1.golden.json", []byte(got.Result))
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFiles_BadFiles checks the files that end their job failed before
// anything is written, the files whose bad entities are entity errors, and
// the requests refused at submission without contacting anything.
func TestFiles_BadFiles(t *testing.T) {
	f := newFileServers(t)
	s := newStack(t, f.env()...)
	s.startWorker("worker")
	instanceID, pat := s.createInstance("Bad files")
	orgsBefore := s.query(`SELECT count(*) FROM orgs WHERE instance_id = $1`, instanceID)[0][0]

	good := `{"orgs":[{"orgId":"bf-a","org":{"name":"BF A"},"humanUsers":[{"userId":"bf-u1","user":{"userName":"bf-u1","profile":{"firstName":"F","lastName":"L"},"email":{"email":"u1@example.com"}}}]},`
	f.put("broken.json", []byte(good+`{"orgId":"bf-b","org":{"name":"BF B"}`))
	f.put("twice.json", []byte(good+`{"orgId":"bf-a","org":{"name":"BF A again"}}]}`))
	f.put("not-a-list.json", []byte(`{"orgs":[{"orgId":"bf-d","org":{"name":"BF D"},"humanUsers":"nope"}]}`))
	f.put("nul-org.json", []byte(`{"orgs":[{"orgId":"bf-\u0000","org":{"name":"BF NUL"}}]}`))
	f.put("user-twice.json", []byte(good+`{"orgId":"bf-c","org":{"name":"BF C"},"humanUsers":[{"userId":"bf-u1","user":{"userName":"other"}}]}]}`))
	for _, tc := range []struct{ src, name, want string }{
		{"local", "broken.json", "the import file is not usable: not valid JSON at byte 225: unexpected EOF"},
		{"s3", "broken.json", "the import file is not usable: not valid JSON at byte 225: unexpected EOF"},
		{"gcs", "twice.json", `the import file is not usable: orgs[1].orgId: "bf-a" is the id of orgs[0] too; give each org once (in the org at byte 187)`},
		{"s3", "user-twice.json", `the import file is not usable: orgs[1].humanUsers[0]: user id "bf-u1" is given in orgs[0] too; orgs are imported in parallel, so give each once (in the org at byte 187)`},
		{"local", "not-a-list.json", "the import file is not usable: orgs[0].humanUsers: expected an array, got string"},
		{"gcs", "nul-org.json", `the import file is not usable: orgs[0].orgId: must not contain the NUL character (\u0000)`},
		{"s3", "missing.json", "the import file cannot be read: s3://imports/missing.json@" + f.s3Endpoint + ": the object does not exist"},
		{"gcs", "missing.json", "the import file cannot be read: gs://imports/missing.json: the object does not exist"},
	} {
		id := s.submit(pat, f.request(tc.src, tc.name, false, nil))
		job := s.waitJob(id, pat, time.Minute)
		if job["status"] != "failed" || job["error"] != tc.want {
			t.Errorf("%s %s: status %v, error %q; want failed, %q", tc.src, tc.name, job["status"], job["error"], tc.want)
		}
	}
	wrongKey := bytes.Replace(f.request("s3", "broken.json", false, nil), []byte(s3AccessKey), []byte("AKIA-WRONG"), 1)
	id := s.submit(pat, wrongKey)
	if job := s.waitJob(id, pat, time.Minute); job["status"] != "failed" ||
		job["error"] != "the import file cannot be read: s3://imports/broken.json@"+f.s3Endpoint+": access denied: check accessKeyId, secretAccessKey and the bucket's permissions" {
		t.Errorf("wrong key: %v", job)
	}
	noBucket := bytes.Replace(f.request("s3", "broken.json", false, nil), []byte(`"imports"`), []byte(`"nope"`), 1)
	id = s.submit(pat, noBucket)
	if job := s.waitJob(id, pat, time.Minute); job["status"] != "failed" || job["error"] != "the import file cannot be read: s3://nope/broken.json@"+f.s3Endpoint+": the bucket does not exist" {
		t.Errorf("missing bucket: %v", job)
	}
	if got := s.query(`SELECT count(*) FROM orgs WHERE instance_id = $1`, instanceID)[0][0]; got != orgsBefore {
		t.Errorf("failed file imports wrote orgs: %s, before %s", got, orgsBefore)
	}

	// A value of the wrong type inside an entity is that entity's error.
	f.put("types.json", []byte(`{"orgs":[{"orgId":"bt-a","org":{"name":"BT A"},"humanUsers":[`+
		`{"userId":"bt-u1","user":{"userName":"bt-u1","profile":{"firstName":"F","lastName":"L"},"email":{"email":"u1@example.com","isEmailVerified":"yes"}}},`+
		`{"userId":"bt-u2","user":{"userName":"bt-u2","profile":{"firstName":"F","lastName":"L"},"email":{"email":"u2@example.com"},"gender":"GENDER_NONE"}},`+
		`{"userId":"bt-u3\u0000","user":{"userName":"bt-u3","profile":{"firstName":"F","lastName":"L"},"email":{"email":"u3@example.com"}}}]}]}`))
	id = s.submit(pat, f.request("local", "types.json", false, nil))
	if job := s.waitJob(id, pat, time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("a file with a bad value: %v", job)
	}
	res := string(s.result(id, pat))
	for _, want := range []string{`humanUsers[0].user.email.isEmailVerified: expected a boolean`, `"humanUserIds":["bt-u2"]`,
		`humanUsers[2].userId: must not contain the NUL character`} {
		if !strings.Contains(res, want) {
			t.Errorf("result lacks %s:\n%s", want, res)
		}
	}

	// Refused at submission, and never read or contacted.
	outside := t.TempDir()
	secret := "TOP-SECRET-FILE-CONTENT"
	os.WriteFile(filepath.Join(outside, "secret.json"), []byte(secret), 0o644)
	os.Symlink(filepath.Join(outside, "secret.json"), filepath.Join(f.dir, "link.json"))
	os.Symlink(outside, filepath.Join(f.dir, "linkdir"))
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Errorf("unlisted endpoint contacted: %s", r.URL) }))
	defer other.Close()
	for _, tc := range []struct{ body, want string }{
		{`{"dataOrgsLocal":{"path":"../secret.json"}}`, `dataOrgsLocal.path: path \"../secret.json\" is outside the import directory`},
		{`{"dataOrgsLocal":{"path":"a/../../secret.json"}}`, `is outside the import directory`},
		{`{"dataOrgsLocal":{"path":"` + filepath.Join(outside, "secret.json") + `"}}`, `is outside the import directory`},
		{`{"dataOrgsv1Local":{"path":"link.json"}}`, `dataOrgsv1Local.path: the path leads out of the import directory`},
		{`{"dataOrgsLocal":{"path":"linkdir/secret.json"}}`, `dataOrgsLocal.path: the path leads out of the import directory`},
		{`{"dataOrgsLocal":{"path":"nothing.json"}}`, `dataOrgsLocal.path: no such file in the import directory`},
		{`{"dataOrgsS3":{"endpoint":"` + strings.TrimPrefix(other.URL, "http://") + `","bucket":"b","path":"p"}}`, `is not allowed; the operator lists the S3 endpoints`},
		{`{"dataOrgsS3":{"endpoint":"metadata.google.internal","bucket":"b","path":"p"}}`, `is a cloud metadata address and is never contacted`},
		{`{"dataOrgsS3":{"endpoint":"[fd00:ec2::254]","bucket":"b","path":"p"}}`, `is a link-local or metadata address`},
	} {
		code, body := s.do("POST", "/import", pat, []byte(tc.body))
		if code != 400 || !strings.Contains(string(body), tc.want) || strings.Contains(string(body), secret) {
			t.Errorf("%s: %d %s; want 400 with %q", tc.body, code, body, tc.want)
		}
	}
}

// TestFiles_ChangedMidJob replaces the file of a running job, locally and
// on S3: the job ends failed, never importing a mix of two versions.
func TestFiles_ChangedMidJob(t *testing.T) {
	f := newFileServers(t)
	s := newStack(t, append(f.env(), "ZIMPORT_CHUNK_SIZE=100", "ZIMPORT_WORKER_CONCURRENCY=2")...)
	s.startWorker("worker")
	data := generated(t, gen.Options{Orgs: 12, Users: 1500, Grants: true, Seed: 3, OrgPrefix: "ch-"})
	for _, src := range []string{"local", "s3"} {
		t.Run(src, func(t *testing.T) {
			name := "changing-" + src + ".json"
			f.put(name, data)
			_, pat := s.createInstance("Changed " + src)
			id := s.submit(pat, f.request(src, name, false, nil))
			// Once the split has recorded the units, the file changes.
			for deadline := time.Now().Add(time.Minute); s.query(`SELECT count(*) FROM job_units WHERE job_id = $1`, id)[0][0] == "0"; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the job was not split within a minute")
				}
			}
			changed := bytes.Replace(data, []byte(`"gf-`), []byte(`"gX-`), 1)
			changed = append(changed, ' ')
			if src == "local" {
				os.WriteFile(filepath.Join(f.dir, name), changed, 0o644)
			} else {
				f.putS3(name, changed)
			}
			job := s.waitJob(id, pat, 3*time.Minute)
			if job["status"] != "failed" || job["error"] != "the file changed while it was imported" {
				t.Fatalf("status %v, error %q; want failed, the file changed while it was imported", job["status"], job["error"])
			}
		})
	}
}

// TestFiles_NoCredentialLeaks imports from S3 and GCS with credentials and
// looks for them in the queue, the logs, every answer and the database.
func TestFiles_NoCredentialLeaks(t *testing.T) {
	f := newFileServers(t)
	s := newStack(t, f.env()...)
	_, pat := s.createInstanceWith("Leaks", "first")
	s.stopWorker("first") // the tasks wait in Redis while it is looked at
	data := generated(t, gen.Options{Orgs: 2, Users: 20, Seed: 5, OrgPrefix: "lk-"})
	f.put("leak.json", data)
	s3Body := f.request("s3", "leak.json", false, nil)
	gcsBody := f.request("gcs", "leak.json", false, nil)
	var sa struct {
		PrivateKey string `json:"private_key"`
	}
	json.Unmarshal(testServiceAccount(t), &sa)
	gcsKey := string(memberOf(t, memberOf(t, gcsBody, "dataOrgsGcs"), "serviceaccountJson"))
	secrets := []string{s3AccessKey, s3SecretKey, strings.Trim(gcsKey, `"`), "BEGIN PRIVATE KEY"}

	var answers bytes.Buffer
	ids := []string{}
	for _, body := range [][]byte{s3Body, gcsBody} {
		code, b := s.do("POST", "/import", pat, body)
		if code != 202 {
			t.Fatalf("submit: %d %s", code, b)
		}
		answers.Write(b)
		ids = append(ids, jobID(t, b))
	}
	queued := redisContent(t, s)
	if !strings.Contains(queued, ids[0]) {
		t.Fatal("the queue does not hold the jobs' tasks: the check would see nothing")
	}
	running := s.query(`SELECT count(*) FROM job_source_secrets`)[0][0]
	s.startWorker("worker")
	for _, id := range ids {
		// The second job finds the first one's entities: its errors say so.
		if job := s.waitJob(id, pat, time.Minute); job["status"] != "succeeded" && job["status"] != "completed_with_errors" {
			t.Fatalf("job %s: %v", id, job)
		}
		for _, path := range []string{"/jobs/" + id, "/jobs/" + id + "/result", "/jobs/" + id + "/result?format=ndjson", "/jobs/" + id + "/errors"} {
			_, b := s.do("GET", path, pat, nil)
			answers.Write(b)
		}
	}
	_, b := s.do("GET", "/jobs", pat, nil)
	answers.Write(b)
	if !strings.Contains(answers.String(), `"source":"s3://imports/leak.json@`+f.s3Endpoint+`"`) {
		t.Errorf("the job view does not name the source: %s", answers.String())
	}
	if left := s.query(`SELECT count(*) FROM job_source_secrets`)[0][0]; running != "2" || left != "0" {
		t.Errorf("sealed credentials: %s rows while the jobs were queued, %s after they ended; want 2 and 0", running, left)
	}
	var logs strings.Builder
	for _, path := range s.logs {
		b, _ := os.ReadFile(path)
		logs.Write(b)
	}
	places := map[string]string{"redis while queued": queued, "redis after": redisContent(t, s), "answers": answers.String(),
		"logs": logs.String(), "database": databaseText(t, s)}
	for where, text := range places {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the credential %.12s…", where, secret)
			}
		}
	}
}

// redisContent returns every key and value of the stack's Redis database.
func redisContent(t testing.TB, s *stack) string {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(s.redis)
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, k := range keys {
		out.WriteString(k + "\n")
		switch rdb.Type(ctx, k).Val() {
		case "string":
			out.WriteString(rdb.Get(ctx, k).Val())
		case "hash":
			fmt.Fprint(&out, rdb.HGetAll(ctx, k).Val())
		case "list":
			fmt.Fprint(&out, rdb.LRange(ctx, k, 0, -1).Val())
		case "set":
			fmt.Fprint(&out, rdb.SMembers(ctx, k).Val())
		case "zset":
			fmt.Fprint(&out, rdb.ZRange(ctx, k, 0, -1).Val())
		}
	}
	return out.String()
}

// databaseText returns the text of every row of the tables of the stack's
// database that are not the directory (jobs, payloads, units, results…).
func databaseText(t testing.TB, s *stack) string {
	t.Helper()
	var out strings.Builder
	for _, r := range s.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`) {
		for _, row := range s.query(`SELECT t::text FROM ` + r[0] + ` t`) {
			out.WriteString(row[0] + "\n")
		}
	}
	return out.String()
}

// TestFiles_SurvivesWorkerKills kills the worker several times during an
// import from S3; the result and the rows equal those of an undisturbed
// inline import of the same data.
func TestFiles_SurvivesWorkerKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and recovers workers")
	}
	f := newFileServers(t)
	env := append(f.env(), "ZIMPORT_CHUNK_SIZE=100", "ZIMPORT_WORKER_CONCURRENCY=2")
	s := newStack(t, env...)
	data := generated(t, gen.Options{Orgs: 8, Users: 500, Grants: true, Metadata: 0.3, Members: 0.1, Bad: 0.02, Seed: 9, OrgPrefix: "k-"})
	f.put("kills.json", data)

	baseInstance, basePAT := s.createInstanceWith("Baseline", "calm")
	baseID := s.submit(basePAT, inline(data, false))
	if job := s.waitJob(baseID, basePAT, 5*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("undisturbed run ended %v: %v", job["status"], job)
	}
	s.stopWorker("calm")

	crashInstance, crashPAT := s.createInstanceWith("Crashy", "crashy-0")
	crashID := s.submit(crashPAT, f.request("s3", "kills.json", false, nil))
	for i, at := range []float64{0.2, 0.45, 0.7} {
		s.waitProgress(crashID, crashPAT, at, 3*time.Minute)
		s.kill(fmt.Sprintf("crashy-%d", i))
		s.startWorker(fmt.Sprintf("crashy-%d", i+1))
	}
	if job := s.waitJob(crashID, crashPAT, 10*time.Minute); job["status"] != "completed_with_errors" {
		t.Fatalf("crashed run ended %v: %v", job["status"], job)
	}
	if diff := cmp.Diff(normalizeResult(t, s.result(baseID, basePAT)), normalizeResult(t, s.result(crashID, crashPAT))); diff != "" {
		t.Errorf("result after kills differs from the undisturbed inline one (-want +got):\n%s", diff)
	}
	want, got := importedRows(s, baseInstance, "k-"), importedRows(s, crashInstance, "k-")
	if len(want["users"]) < 3000 {
		t.Fatalf("baseline has %d users", len(want["users"]))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("directory after kills differs from the undisturbed one (-want +got):\n%s", diff)
	}
}

// TestFiles_LocalPerInstance: by default an instance reads only its own
// subdirectory of the import directory, never another instance's files.
func TestFiles_LocalPerInstance(t *testing.T) {
	dir := t.TempDir()
	s := newStack(t, "ZIMPORT_LOCAL_IMPORT_DIR="+dir)
	s.startWorker("worker")
	instA, patA := s.createInstance("Tenant A")
	_, patB := s.createInstance("Tenant B")
	data := []byte(`{"orgs":[{"orgId":"pi-a","org":{"name":"PI A"}}]}`)
	os.MkdirAll(filepath.Join(dir, instA), 0o755)
	os.WriteFile(filepath.Join(dir, instA, "a.json"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "root.json"), data, 0o644)

	id := s.submit(patA, []byte(`{"dataOrgsLocal":{"path":"a.json"}}`))
	if job := s.waitJob(id, patA, time.Minute); job["status"] != "succeeded" || job["source"] != "local:a.json" {
		t.Fatalf("tenant A's own file: %v", job)
	}
	abs := filepath.Join(dir, instA, "a.json")
	for _, tc := range []struct{ token, body, want string }{
		{patA, `{"dataOrgsLocal":{"path":"` + abs + `"}}`, ""},
		{patA, `{"dataOrgsLocal":{"path":"../root.json"}}`, "is outside the import directory"},
		{patB, `{"dataOrgsLocal":{"path":"a.json"}}`, "this instance has no import directory yet"},
		{patB, `{"dataOrgsLocal":{"path":"../` + instA + `/a.json"}}`, "is outside the import directory"},
		{patB, `{"dataOrgsLocal":{"path":"` + abs + `"}}`, "is outside the import directory"},
	} {
		code, body := s.do("POST", "/import", tc.token, []byte(tc.body))
		if tc.want == "" && code != 202 || tc.want != "" && (code != 400 || !strings.Contains(string(body), tc.want)) {
			t.Errorf("%s: %d %s; want %q", tc.body, code, body, tc.want)
		}
	}
}
