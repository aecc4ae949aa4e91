package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/zimport/zimport/instance"
)

// newInstanceJob records a queued create_instance job.
func newInstanceJob(t testing.TB, st *Store, request []byte) Job {
	t.Helper()
	job, _, err := st.CreateJob(context.Background(), NewJob{
		Kind: KindCreateInstance, Caller: "system", Timeout: time.Minute, RequestSealed: request,
	})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	return job
}

// buildPlan plans the instance of a CreateInstanceRequest body.
func buildPlan(t testing.TB, body string) (instance.Plan, instance.Secrets) {
	t.Helper()
	req, err := instance.ParseRequest([]byte(body), time.Now())
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	p, sec, err := instance.Build(req, instance.BuildConfig{ExternalDomain: "zimport.test", BcryptCost: bcrypt.MinCost, Now: time.Now()})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p, sec
}

// count returns the number of rows of table (a constant) of instance id.
func count(t testing.TB, st *Store, table, instanceID string) int {
	t.Helper()
	column := "instance_id"
	if table == "instances" {
		column = "id"
	}
	var n int
	if err := st.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE `+column+` = $1`, instanceID).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func countAll(t testing.TB, st *Store, table string) int {
	t.Helper()
	var n int
	if err := st.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

const machineRequest = `{"instanceName":"Acme","firstOrgName":"Acme Org","customDomain":"Login.Acme.test","defaultLanguage":"de",
	"machine":{"userName":"importer","name":"Importer","personalAccessToken":{},"machineKey":{"type":"KEY_TYPE_JSON"}}}`

func TestStore_CreateInstance(t *testing.T) {
	ctx := context.Background()
	st := newTestStore(t)
	job := newInstanceJob(t, st, []byte("sealed request"))
	p, sec := buildPlan(t, machineRequest)

	if err := st.CreateInstance(ctx, job.ID, p, []byte("sealed result")); err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}

	var got struct {
		Name, Lang, DefaultOrg string
		CreatedAt              time.Time
	}
	if err := st.pool.QueryRow(ctx, `SELECT name, default_language, default_org_id, created_at FROM instances WHERE id = $1`, p.InstanceID).
		Scan(&got.Name, &got.Lang, &got.DefaultOrg, &got.CreatedAt); err != nil {
		t.Fatalf("load instance: %v", err)
	}
	if got.Name != "Acme" || got.Lang != "de" || got.DefaultOrg != p.Org.ID || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("instance = %+v, want Acme, de, %s, %v", got, p.Org.ID, p.CreatedAt)
	}

	rows, err := st.pool.Query(ctx, `SELECT domain, is_primary, generated FROM instance_domains WHERE instance_id = $1 ORDER BY generated DESC`, p.InstanceID)
	if err != nil {
		t.Fatal(err)
	}
	var domains []instance.Domain
	for rows.Next() {
		var d instance.Domain
		if err := rows.Scan(&d.Name, &d.Primary, &d.Generated); err != nil {
			t.Fatal(err)
		}
		domains = append(domains, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Domains, domains); diff != "" || domains[1].Name != "login.acme.test" {
		t.Errorf("instance domains (-want +got):\n%s", diff)
	}

	var orgName, userType, userName, userState, name, scope string
	if err := st.pool.QueryRow(ctx, `SELECT o.name, u.type, u.username, u.state, u.name, u.username_scope FROM orgs o
		JOIN users u ON u.instance_id = o.instance_id AND u.org_id = o.id WHERE o.instance_id = $1 AND o.id = $2 AND u.id = $3`,
		p.InstanceID, p.Org.ID, p.Owner.ID).Scan(&orgName, &userType, &userName, &userState, &name, &scope); err != nil {
		t.Fatalf("load org and owner: %v", err)
	}
	if orgName != "Acme Org" || userType != "machine" || userName != "importer" || userState != "USER_STATE_ACTIVE" || name != "Importer" || scope != "" {
		t.Errorf("org, owner = %q, %q %q %q %q %q", orgName, userType, userName, userState, name, scope)
	}
	var roles []string
	if err := st.pool.QueryRow(ctx, `SELECT roles FROM org_members WHERE instance_id = $1 AND org_id = $2 AND user_id = $3`,
		p.InstanceID, p.Org.ID, p.Owner.ID).Scan(&roles); err != nil {
		t.Fatalf("load owner membership: %v", err)
	}
	if diff := cmp.Diff([]string{"ORG_OWNER"}, roles); diff != "" {
		t.Errorf("owner roles (-want +got):\n%s", diff)
	}

	var hash, pub []byte
	var keyType string
	var patExpires time.Time
	if err := st.pool.QueryRow(ctx, `SELECT t.token_hash, t.expires_at, k.public_key, k.key_type
		FROM personal_access_tokens t JOIN machine_keys k ON k.instance_id = t.instance_id AND k.user_id = t.user_id
		WHERE t.instance_id = $1 AND t.user_id = $2`, p.InstanceID, p.Owner.ID).Scan(&hash, &patExpires, &pub, &keyType); err != nil {
		t.Fatalf("load credentials: %v", err)
	}
	if !bytes.Equal(hash, instance.TokenHash(sec.PAT)) || !patExpires.Equal(instance.DefaultExpiration) ||
		!bytes.Equal(pub, p.MachineKey.PublicKey) || keyType != "KEY_TYPE_JSON" {
		t.Errorf("credentials: hash ok %v, expires %v, public key ok %v, type %q",
			bytes.Equal(hash, instance.TokenHash(sec.PAT)), patExpires, bytes.Equal(pub, p.MachineKey.PublicKey), keyType)
	}

	job, err = st.JobByID(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != StatusSucceeded || job.FinishedAt == nil || job.InstanceID != "" {
		t.Errorf("job status %q, finished %v, instance %q; want succeeded, set, none", job.Status, job.FinishedAt, job.InstanceID)
	}
	res, err := st.JobResultSealed(ctx, job.ID)
	if err != nil || string(res) != "sealed result" {
		t.Errorf("JobResultSealed() = %q, %v", res, err)
	}
	req, err := st.JobRequestSealed(ctx, job.ID)
	if err != nil || string(req) != "sealed request" {
		t.Errorf("JobRequestSealed() = %q, %v", req, err)
	}

	ok, err := st.InstanceExists(ctx, p.InstanceID)
	if err != nil || !ok {
		t.Errorf("InstanceExists(new) = %v, %v; want true", ok, err)
	}
	ok, err = st.InstanceExists(ctx, "1")
	if err != nil || ok {
		t.Errorf("InstanceExists(unknown) = %v, %v; want false", ok, err)
	}

	t.Run("retry creates nothing", func(t *testing.T) {
		p2, _ := buildPlan(t, machineRequest)
		if err := st.CreateInstance(ctx, job.ID, p2, []byte("other result")); err != nil {
			t.Fatalf("CreateInstance again: %v", err)
		}
		for _, table := range []string{"instances", "instance_domains", "orgs", "users", "org_members", "personal_access_tokens", "machine_keys"} {
			if n := countAll(t, st, table); n != 1 && !(table == "instance_domains" && n == 2) {
				t.Errorf("%s has %d rows after a retry", table, n)
			}
		}
		if res, _ := st.JobResultSealed(ctx, job.ID); string(res) != "sealed result" {
			t.Errorf("result changed to %q", res)
		}
	})
}

func TestStore_CreateInstanceHuman(t *testing.T) {
	ctx := context.Background()
	st := newTestStore(t)
	job := newInstanceJob(t, st, nil)
	p, sec := buildPlan(t, `{"instanceName":"Humans","human":{"userName":"admin","email":{"email":"admin@acme.test"},
		"profile":{"firstName":"Ada","lastName":"Admin","preferredLanguage":"en"},"password":{"password":"Secret-123","passwordChangeRequired":true}}}`)
	if sec.PAT != "" || sec.MachineKeyFile != nil {
		t.Fatal("human owner with credentials")
	}
	if err := st.CreateInstance(ctx, job.ID, p, []byte("r")); err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	var typ, email, first, last, display, lang, state, hash string
	var verified, change bool
	if err := st.pool.QueryRow(ctx, `SELECT type, email, email_verified, first_name, last_name, display_name, preferred_language,
			state, password_hash, password_change_required FROM users WHERE instance_id = $1 AND id = $2`, p.InstanceID, p.Owner.ID).
		Scan(&typ, &email, &verified, &first, &last, &display, &lang, &state, &hash, &change); err != nil {
		t.Fatalf("load owner: %v", err)
	}
	if typ != "human" || email != "admin@acme.test" || verified || first != "Ada" || last != "Admin" || display != "Ada Admin" ||
		lang != "en" || state != "USER_STATE_INITIAL" || !change {
		t.Errorf("owner = %s %s %v %s %s %s %s %s %v", typ, email, verified, first, last, display, lang, state, change)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("Secret-123")); err != nil {
		t.Errorf("password hash: %v", err)
	}
	if n := count(t, st, "personal_access_tokens", p.InstanceID) + count(t, st, "machine_keys", p.InstanceID); n != 0 {
		t.Errorf("%d credentials for a human owner", n)
	}
	if _, err := st.JobRequestSealed(ctx, job.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("JobRequestSealed() without request: err = %v, want ErrNotFound", err)
	}
}

func TestStore_InstanceByToken(t *testing.T) {
	ctx := context.Background()
	st := newTestStore(t)
	p, sec := buildPlan(t, `{"instanceName":"Tokens","machine":{"userName":"i","name":"I","personalAccessToken":{}}}`)
	if err := st.CreateInstance(ctx, newInstanceJob(t, st, nil).ID, p, []byte("r")); err != nil {
		t.Fatal(err)
	}
	owner, err := st.InstanceByToken(ctx, instance.TokenHash(sec.PAT))
	instanceID, userID := owner.InstanceID, owner.UserID
	if err != nil || instanceID != p.InstanceID || userID != p.Owner.ID {
		t.Errorf("InstanceByToken() = %q, %q, %v; want %q, %q", instanceID, userID, err, p.InstanceID, p.Owner.ID)
	}
	if _, err := st.InstanceByToken(ctx, instance.TokenHash("unknown")); !errors.Is(err, ErrNotFound) {
		t.Errorf("InstanceByToken(unknown) err = %v, want ErrNotFound", err)
	}

	expired, expiredSec := buildPlan(t, `{"instanceName":"Expired","machine":{"userName":"i","name":"I","personalAccessToken":{}}}`)
	expired.PAT.ExpiresAt = time.Now().Add(-time.Minute)
	if err := st.CreateInstance(ctx, newInstanceJob(t, st, nil).ID, expired, []byte("r")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InstanceByToken(ctx, instance.TokenHash(expiredSec.PAT)); !errors.Is(err, ErrNotFound) {
		t.Errorf("InstanceByToken(expired) err = %v, want ErrNotFound", err)
	}
}

func TestStore_CreateInstanceDomainConflict(t *testing.T) {
	ctx := context.Background()
	st := newTestStore(t)
	first, _ := buildPlan(t, machineRequest)
	if err := st.CreateInstance(ctx, newInstanceJob(t, st, nil).ID, first, []byte("r")); err != nil {
		t.Fatal(err)
	}

	job := newInstanceJob(t, st, nil)
	second, _ := buildPlan(t, `{"instanceName":"Other","customDomain":"LOGIN.acme.test","machine":{"userName":"i","name":"I","personalAccessToken":{}}}`)
	err := st.CreateInstance(ctx, job.ID, second, []byte("r"))
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("CreateInstance() err = %v, want ErrConflict", err)
	}
	if want := `custom domain "login.acme.test" is already used by another instance`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	for _, table := range []string{"instances", "instance_domains", "orgs", "users", "org_members", "personal_access_tokens", "machine_keys"} {
		if n := count(t, st, table, second.InstanceID); n != 0 {
			t.Errorf("%s has %d rows of the conflicting instance", table, n)
		}
	}
	if n := countAll(t, st, "instances"); n != 1 {
		t.Errorf("%d instances, want 1", n)
	}
	got, err := st.JobByID(ctx, job.ID)
	if err != nil || got.Status != StatusQueued {
		t.Errorf("job after conflict: %q, %v; want queued", got.Status, err)
	}
	if _, err := st.JobResultSealed(ctx, job.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("JobResultSealed() after conflict: err = %v, want ErrNotFound", err)
	}
}

func TestStore_CreateInstanceEndedJob(t *testing.T) {
	ctx := context.Background()
	st := newTestStore(t)
	job := newInstanceJob(t, st, nil)
	if _, err := st.CancelJob(ctx, job.ID, Scope{System: true}); err != nil {
		t.Fatal(err)
	}
	p, _ := buildPlan(t, machineRequest)
	if err := st.CreateInstance(ctx, job.ID, p, []byte("r")); err != nil {
		t.Fatalf("CreateInstance(canceled job) = %v, want nil", err)
	}
	if n := countAll(t, st, "instances"); n != 0 {
		t.Errorf("a canceled job created %d instances", n)
	}
	for _, id := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid"} {
		if err := st.CreateInstance(ctx, id, p, []byte("r")); !errors.Is(err, ErrNotFound) {
			t.Errorf("CreateInstance(%s) = %v, want ErrNotFound", id, err)
		}
		if _, err := st.JobResultSealed(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("JobResultSealed(%s) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestStore_CreateInstanceConcurrent(t *testing.T) {
	ctx := context.Background()
	st := newTestStore(t)
	job := newInstanceJob(t, st, nil)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	plans := make([]instance.Plan, n)
	for i := range plans {
		plans[i], _ = buildPlan(t, `{"instanceName":"Race","machine":{"userName":"i","name":"I"}}`)
	}
	for i := range n {
		wg.Go(func() { errs[i] = st.CreateInstance(ctx, job.ID, plans[i], []byte("r")) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("CreateInstance #%d: %v", i, err)
		}
	}
	if got := countAll(t, st, "instances"); got != 1 {
		t.Errorf("%d concurrent runs of one job created %d instances, want 1", n, got)
	}
}
