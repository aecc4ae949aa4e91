package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/zimport/zimport/importdata"
)

// newHumanStore returns a store with instances inst1 and inst2, each with
// the org "o1" (its first org) and an IdP "sso" of it.
func newHumanStore(t *testing.T) *Store {
	t.Helper()
	s := newKindsStore(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO instances (id, name, default_org_id) VALUES ('inst2', 'Other', 'o1')`,
		`INSERT INTO instance_policies (instance_id, kind, policy) SELECT 'inst2', kind, policy FROM default_policies`,
		`UPDATE instances SET default_org_id = 'o1'`,
		`INSERT INTO orgs (instance_id, id, name) VALUES ('inst1', 'o1', 'First'), ('inst2', 'o1', 'First'), ('inst1', 'o2', 'Second')`,
		`INSERT INTO idps (instance_id, id, org_id, kind, name, issuer, jwt_endpoint, keys_endpoint, header_name)
			SELECT i, 'sso', 'o1', 'jwt', 'SSO', 'https://sso', 'https://sso/jwt', 'https://sso/keys', 'x-token' FROM unnest('{inst1,inst2}'::text[]) i`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return s
}

func humanReq(name string) importdata.ImportHumanUserRequest {
	return importdata.ImportHumanUserRequest{UserName: name, Profile: &importdata.Profile{FirstName: "F", LastName: "L"},
		Email: &importdata.Email{Email: "u@example.com"}, HashedPassword: &importdata.HashedPassword{Value: "$2a$04$" + strings.Repeat("a", 53)}}
}

// outcomeText is what a test compares of an outcome: the error, or the
// parts of the answer that do not depend on the instance or the time.
func outcomeText(o HumanImported, err error) string {
	var rej *HumanRejected
	switch {
	case errors.As(err, &rej):
		return "rejected " + rej.Error()
	case err != nil:
		return "error " + err.Error()
	}
	return fmt.Sprintf("ok seq %d link %v id %v", o.Sequence, o.Passwordless != nil, len(o.UserID) == 18 && !o.CreatedAt.IsZero())
}

// TestImportHumanUsers_BatchIsOneByOne: a batch gives each user the
// outcome it has when the users are imported one by one in the batch's
// order: refusals, names taken earlier in the batch, links, codes.
func TestImportHumanUsers_BatchIsOneByOne(t *testing.T) {
	s := newHumanStore(t)
	ctx := context.Background()
	mk := func(name string, edit func(*importdata.ImportHumanUserRequest)) importdata.ImportHumanUserRequest {
		u := humanReq(name)
		if edit != nil {
			edit(&u)
		}
		return u
	}
	users := []importdata.ImportHumanUserRequest{
		mk("ann", nil),
		mk("ANN", nil), // taken by the one before
		mk("bad-email", func(u *importdata.ImportHumanUserRequest) { u.Email.Email = "nope" }),
		mk("bad-hash", func(u *importdata.ImportHumanUserRequest) { u.HashedPassword.Value = "$9$x" }),
		mk("bad-otp", func(u *importdata.ImportHumanUserRequest) { u.OTPCode = "not base32!" }),
		mk("otp", func(u *importdata.ImportHumanUserRequest) { u.OTPCode = "JBSWY3DPEHPK3PXP" }),
		mk("passkey", func(u *importdata.ImportHumanUserRequest) { u.RequestPasswordlessRegistration = true }),
		mk("linked", func(u *importdata.ImportHumanUserRequest) {
			u.IDPs = []importdata.HumanIDP{{ConfigID: "sso", ExternalUserID: "e1"}}
		}),
		mk("linked-too", func(u *importdata.ImportHumanUserRequest) { // the same external user
			u.IDPs = []importdata.HumanIDP{{ConfigID: "sso", ExternalUserID: "e1"}}
		}),
		mk("no-idp", func(u *importdata.ImportHumanUserRequest) {
			u.IDPs = []importdata.HumanIDP{{ConfigID: "other", ExternalUserID: "e2"}}
		}),
		mk("weak", func(u *importdata.ImportHumanUserRequest) { u.HashedPassword, u.Password = nil, "weak" }),
		mk("plain", func(u *importdata.ImportHumanUserRequest) { u.HashedPassword, u.Password = nil, "Str0ng-Passw0rd!" }),
		mk("ann", nil), // the same name: the same id
	}
	batch, err := s.ImportHumanUsers(ctx, HumanBatch{InstanceID: "inst1", Users: users}, kindsOpts)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for i, u := range users {
		got = append(got, fmt.Sprintf("%d %s", i, outcomeText(batch[i].HumanImported, batch[i].Err)))
		one, err := s.ImportHumanUser(ctx, HumanImport{InstanceID: "inst2", User: u}, kindsOpts)
		want = append(want, fmt.Sprintf("%d %s", i, outcomeText(one, err)))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("batch:\n%s\none by one:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range []string{"0 ok seq 1", "1 rejected ID=V3-DKcYh Message=Errors.User.AlreadyExists (user name \"ANN\" is taken)",
		"3 rejected ID=USER-JDk4t", "4 rejected ID=USER-4M90d Message=Errors.User.MFA.OTP.Invalid (otpCode:", "5 ok seq 2", "6 ok seq 2 link true",
		"7 ok seq 2", "8 rejected ID=V3-DKcYh Message=Errors.User.ExternalIDP.AlreadyExists (idps[0]: ", "9 rejected ID=COMMAND-39nfs",
		"10 rejected ID=DOMAIN-", "11 ok seq 1", "12 rejected ID=V3-DKcYh Message=Errors.User.AlreadyExists (user name \"ann\" is taken)"} {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("no outcome %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	rows := kindsRows(t, s, `SELECT instance_id, count(*) FROM users GROUP BY 1 ORDER BY 1`)
	if fmt.Sprint(rows) != "[[inst1 5] [inst2 5]]" {
		t.Errorf("users by instance %v, want the 5 that passed in each", rows)
	}
}

// TestImportHumanUser_Org: the org is the header's, else the caller's,
// else the instance's first; one of no org, or of another instance, is
// ErrNotFound.
func TestImportHumanUser_Org(t *testing.T) {
	s := newHumanStore(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO users (instance_id, id, org_id, type, username) VALUES ('inst1', 'bot', 'o2', 'machine', 'bot')`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in      HumanImport
		wantOrg string
	}{
		{HumanImport{InstanceID: "inst1", OrgID: "o2"}, "o2"},
		{HumanImport{InstanceID: "inst1", CallerUserID: "bot"}, "o2"},
		{HumanImport{InstanceID: "inst1"}, "o1"},
		{HumanImport{InstanceID: "inst1", OrgID: "o9"}, ""},
		{HumanImport{InstanceID: "inst2", OrgID: "o2"}, ""}, // inst1's
		{HumanImport{InstanceID: "inst1", CallerUserID: "unknown"}, ""},
	} {
		c.in.User = humanReq(fmt.Sprintf("user-%s-%s-%s", c.in.InstanceID, c.in.OrgID, c.in.CallerUserID))
		out, err := s.ImportHumanUser(ctx, c.in, kindsOpts)
		switch {
		case c.wantOrg == "" && !errors.Is(err, ErrNotFound):
			t.Errorf("%+v: %v, want ErrNotFound", c.in, err)
		case c.wantOrg != "" && (err != nil || out.OrgID != c.wantOrg):
			t.Errorf("%+v: org %q, %v; want %q", c.in, out.OrgID, err, c.wantOrg)
		}
	}
}

// TestImportHumanUser_Idempotency: the same key and digest get the first
// answer, also when they come at once; another digest is ErrConflict; a
// refused request records nothing.
func TestImportHumanUser_Idempotency(t *testing.T) {
	s := newHumanStore(t)
	ctx := context.Background()
	key := Idempotency{Caller: "user:bot", Key: "k", Digest: []byte("body-1")}
	u := humanReq("idem")
	u.RequestPasswordlessRegistration = true
	var wg sync.WaitGroup
	outs := make([]HumanImported, 6)
	errs := make([]error, 6)
	for i := range outs {
		wg.Go(func() {
			outs[i], errs[i] = s.ImportHumanUser(ctx, HumanImport{InstanceID: "inst1", User: u, Idempotency: key}, kindsOpts)
		})
	}
	wg.Wait()
	replays := 0
	for i := range outs {
		if errs[i] != nil || outs[i].UserID != outs[0].UserID || outs[i].Passwordless == nil ||
			outs[i].Passwordless.Link != outs[0].Passwordless.Link || !outs[i].CreatedAt.Equal(outs[0].CreatedAt) {
			t.Fatalf("answer %d = %+v, %v; want %+v", i, outs[i], errs[i], outs[0])
		}
		if outs[i].Replayed {
			replays++
		}
	}
	if replays != 5 {
		t.Errorf("%d replays, want 5", replays)
	}
	other := key
	other.Digest = []byte("body-2")
	if _, err := s.ImportHumanUser(ctx, HumanImport{InstanceID: "inst1", User: humanReq("idem2"), Idempotency: other}, kindsOpts); !errors.Is(err, ErrConflict) {
		t.Errorf("another body: %v, want ErrConflict", err)
	}
	// A refusal is an answer too: the same again, and the key is spent.
	refused := Idempotency{Caller: "user:bot", Key: "refused", Digest: []byte("x")}
	_, first := s.ImportHumanUser(ctx, HumanImport{InstanceID: "inst1", User: humanReq("IDEM"), Idempotency: refused}, kindsOpts)
	if first == nil || !strings.Contains(first.Error(), "Errors.User.AlreadyExists") {
		t.Fatalf("a taken name: %v", first)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM users WHERE lower(username) = 'idem'`); err != nil {
		t.Fatal(err)
	}
	if _, again := s.ImportHumanUser(ctx, HumanImport{InstanceID: "inst1", User: humanReq("IDEM"), Idempotency: refused}, kindsOpts); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("replay of a refusal: %v, want %v", again, first)
	}
	if rows := kindsRows(t, s, `SELECT count(*) FROM users WHERE lower(username) = 'idem'`); rows[0][0] != "0" {
		t.Error("the replay of a refusal imported the user")
	}
	if n, err := s.PurgeUserAnswers(ctx, 10); err != nil || n != 0 {
		t.Errorf("purge of fresh answers: %d, %v", n, err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE user_import_answers SET created_at = now() - interval '25 hours' WHERE key = 'k'`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeUserAnswers(ctx, 10); err != nil || n != 1 {
		t.Errorf("purge of an expired answer: %d, %v", n, err)
	}
}

// TestImportHumanUsers_SplitsWhenTheDatabaseRefusesOne: a user whose data
// the database refuses fails alone; the others of its batch are imported.
func TestImportHumanUsers_SplitsWhenTheDatabaseRefusesOne(t *testing.T) {
	s := newHumanStore(t)
	ctx := context.Background()
	// A check no rule of zimport knows, as a stand-in for any data error.
	if _, err := s.pool.Exec(ctx, `CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.username = 'poison' THEN RAISE check_violation USING MESSAGE = 'poison refused'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse_poison BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_poison()`); err != nil {
		t.Fatal(err)
	}
	users := []importdata.ImportHumanUserRequest{humanReq("zed"), humanReq("poison"), humanReq("abe")}
	out, err := s.ImportHumanUsers(ctx, HumanBatch{InstanceID: "inst1", Users: users}, kindsOpts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out {
		got = append(got, outcomeText(o.HumanImported, o.Err))
	}
	want := []string{"ok seq 1 link false id true", "rejected ID=USER-4M90d Message=Errors.User.Invalid (the database rejected the data: poison refused (SQLSTATE 23514))",
		"ok seq 1 link false id true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rows := kindsRows(t, s, `SELECT username FROM users ORDER BY 1`); fmt.Sprint(rows) != "[[abe] [zed]]" {
		t.Errorf("users %v", rows)
	}
}
