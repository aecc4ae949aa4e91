package gen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/passhash"
)

// generate returns the file of o.
func generate(t testing.TB, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, o); err != nil {
		t.Fatalf("Write(%+v): %v", o, err)
	}
	return buf.Bytes()
}

// decode decodes a generated file, v1 converted to v2.
func decode(t testing.TB, data []byte, v1 bool) []*importdata.DataOrg {
	t.Helper()
	var orgs []*importdata.DataOrg
	if v1 {
		var p importdata.ImportDataOrgV1
		if err := importdata.Unmarshal(data, &p); err != nil {
			t.Fatalf("decode v1: %v", err)
		}
		for i, it := range p.Orgs {
			if it.Err != nil {
				t.Fatalf("orgs[%d]: %v", i, it.Err)
			}
			orgs = append(orgs, it.V.ToV2())
		}
		return orgs
	}
	var p importdata.ImportDataOrg
	if err := importdata.Unmarshal(data, &p); err != nil {
		t.Fatalf("decode: %v", err)
	}
	for i, it := range p.Orgs {
		if it.Err != nil {
			t.Fatalf("orgs[%d]: %v", i, it.Err)
		}
		orgs = append(orgs, &it.V)
	}
	return orgs
}

// count checks every entity of orgs and counts them as Entities does.
func count(t *testing.T, orgs []*importdata.DataOrg, plain bool) map[string]int {
	t.Helper()
	got := map[string]int{}
	ids, names := map[string]bool{}, map[string]bool{}
	for i, org := range orgs {
		path := fmt.Sprintf("orgs[%d]", i)
		if err := org.Validate(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if ids[org.OrgID] {
			t.Errorf("%s: org id %q repeats", path, org.OrgID)
		}
		ids[org.OrgID] = true
		got["orgs"]++
		validUsers := map[string]bool{}
		for j, it := range org.HumanUsers {
			got["humanUsers"]++
			p := fmt.Sprintf("%s.humanUsers[%d]", path, j)
			if it.Err != nil {
				got[BadTypeUsers]++
				continue
			}
			u := it.V
			if ids[u.UserID] {
				t.Errorf("%s: user id %q repeats", p, u.UserID)
			}
			ids[u.UserID] = true
			if err := u.Validate(p); err != nil {
				got[InvalidUsers]++
				continue
			}
			if n := strings.ToLower(u.User.UserName); names[n] {
				t.Errorf("%s: user name %q repeats", p, u.User.UserName)
			} else {
				names[n] = true
			}
			validUsers[u.UserID] = true
			checkPassword(t, p, &u.User, plain)
		}
		for j, it := range org.Projects {
			got["projects"]++
			if err := errors.Join(it.Err, it.V.Validate(fmt.Sprintf("%s.projects[%d]", path, j))); err != nil {
				t.Error(err)
			}
		}
		for j, it := range org.ProjectRoles {
			got["projectRoles"]++
			if err := errors.Join(it.Err, it.V.Validate(fmt.Sprintf("%s.projectRoles[%d]", path, j))); err != nil {
				t.Error(err)
			}
		}
		for j, it := range org.UserGrants {
			got["userGrants"]++
			p := fmt.Sprintf("%s.userGrants[%d]", path, j)
			if err := errors.Join(it.Err, it.V.Validate(p)); err != nil {
				t.Error(err)
			}
			if !validUsers[it.V.UserID] || len(org.Projects) != 1 || it.V.ProjectID != org.Projects[0].V.ProjectID {
				t.Errorf("%s: grant %+v is not of a valid user of the org and its project", p, it.V)
			}
		}
		for j, it := range org.OrgMembers {
			got["orgMembers"]++
			p := fmt.Sprintf("%s.orgMembers[%d]", path, j)
			if err := errors.Join(it.Err, it.V.Validate(p)); err != nil {
				t.Error(err)
			}
			if !validUsers[it.V.UserID] || len(it.V.Roles) != 1 || !strings.HasPrefix(it.V.Roles[0], "ORG_") {
				t.Errorf("%s: member %+v is not a valid user of the org with an org role", p, it.V)
			}
		}
		for j, it := range org.UserMetadata {
			got["userMetadata"]++
			p := fmt.Sprintf("%s.userMetadata[%d]", path, j)
			if err := errors.Join(it.Err, it.V.Validate(p)); err != nil {
				t.Error(err)
			}
			if !validUsers[it.V.ID] {
				t.Errorf("%s: metadata of %q, not a valid user of the org", p, it.V.ID)
			}
		}
	}
	return got
}

// checkPassword checks that a valid user has a bcrypt hash, or with plain a
// password that meets ZITADEL's default complexity policy.
func checkPassword(t *testing.T, path string, u *importdata.ImportHumanUserRequest, plain bool) {
	t.Helper()
	if !plain {
		if u.HashedPassword == nil || u.Password != "" {
			t.Errorf("%s: want a hashed password only", path)
			return
		}
		if s, err := passhash.Identify(u.HashedPassword.Value); s != passhash.Bcrypt || err != nil {
			t.Errorf("%s: hashed password is %q, %v; want bcrypt", path, s, err)
		}
		return
	}
	pw := u.Password
	has := func(f func(rune) bool) bool { return strings.IndexFunc(pw, f) >= 0 }
	symbol := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	if u.HashedPassword != nil || len(pw) < 8 || !has(unicode.IsUpper) || !has(unicode.IsLower) || !has(unicode.IsDigit) || !has(symbol) {
		t.Errorf("%s: password %q breaks the default complexity policy", path, pw)
	}
}

func TestGen_WriteDecodes(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"zero options", Options{}},
		{"users only", Options{Orgs: 3, Users: 50}},
		{"everything", Options{Orgs: 3, Users: 100, Grants: true, Metadata: 0.3, Members: 0.1, Bad: 0.1, BadTypes: 0.05, Seed: 7, OrgPrefix: `run "1"/`}},
		{"plain passwords", Options{Orgs: 2, Users: 40, Plain: true, Grants: true, Metadata: 1, Members: 1}},
		{"v1", Options{Orgs: 2, Users: 60, Grants: true, Metadata: 0.5, Members: 0.5, Bad: 0.2, BadTypes: 0.2, V1: true}},
		{"all bad", Options{Users: 20, Grants: true, Metadata: 1, Members: 1, Bad: 0.5, BadTypes: 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := generate(t, tt.o)
			if !json.Valid(data) {
				t.Fatal("output is not valid JSON")
			}
			got := count(t, decode(t, data, tt.o.V1), tt.o.Plain)
			if diff := cmp.Diff(tt.o.Entities(), got); diff != "" {
				t.Errorf("entities (-want +got):\n%s", diff)
			}
			// The shares are met to within one entity.
			o := tt.o.withDefaults()
			n := float64(o.Orgs * o.Users)
			valid := float64(got["humanUsers"] - got[InvalidUsers] - got[BadTypeUsers])
			for _, c := range []struct {
				kind string
				want float64
			}{
				{"humanUsers", n},
				{InvalidUsers, n * o.Bad},
				{BadTypeUsers, n * o.BadTypes},
				{"userMetadata", valid * o.Metadata},
				{"orgMembers", valid * o.Members},
			} {
				if math.Abs(float64(got[c.kind])-c.want) > 1 {
					t.Errorf("%s = %d, want about %v", c.kind, got[c.kind], c.want)
				}
			}
		})
	}
}

func TestGen_Entities(t *testing.T) {
	got := Options{Orgs: 3, Users: 100, Grants: true, Metadata: 0.3, Members: 0.1, Bad: 0.1, BadTypes: 0.1}.Entities()
	want := map[string]int{
		"orgs": 3, "humanUsers": 300, InvalidUsers: 30, BadTypeUsers: 30,
		"projects": 3, "projectRoles": 3, "userGrants": 240, "userMetadata": 72, "orgMembers": 24,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Entities (-want +got):\n%s", diff)
	}
}

// TestGen_EntitiesMatchPlan checks Entities against the per-user choices
// Write makes, and the shares they meet, over many small files.
func TestGen_EntitiesMatchPlan(t *testing.T) {
	for n := 1; n <= 400; n += 13 {
		for bi := 0; bi <= 10; bi++ {
			for ti := 0; ti <= 10-bi; ti += 2 {
				for _, s := range []float64{0, 0.3, 0.5, 1} {
					o := Options{Users: n, Bad: float64(bi) / 10, BadTypes: float64(ti) / 10, Metadata: s, Members: s}
					p := o.plan()
					got := map[string]int{"orgs": 1, "humanUsers": n}
					for g := range int64(n) {
						c, v := p.user(g)
						switch {
						case c == invalid:
							got[InvalidUsers]++
						case c == badTyped:
							got[BadTypeUsers]++
						default:
							if picked(v, p.metadata, 0) {
								got["userMetadata"]++
							}
							if picked(v, p.members, membersPhase) {
								got["orgMembers"]++
							}
						}
					}
					want := o.Entities()
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("%+v: entities (-want +got):\n%s", o, diff)
					}
					valid := float64(n - got[InvalidUsers] - got[BadTypeUsers])
					if got[InvalidUsers] != int(math.Floor(float64(n)*o.Bad+1e-9)) ||
						math.Abs(float64(got[BadTypeUsers])-float64(n)*o.BadTypes) >= 1 ||
						math.Abs(float64(got["userMetadata"])-valid*s) >= 1 ||
						math.Abs(float64(got["orgMembers"])-valid*s) > 0.5+1e-9 {
						t.Fatalf("%+v: counts %v miss the shares", o, got)
					}
				}
			}
		}
	}
}

func TestGen_Deterministic(t *testing.T) {
	o := Options{Orgs: 2, Users: 30, Grants: true, Metadata: 0.5, Members: 0.2, Bad: 0.1, BadTypes: 0.1, Seed: 42}
	a, b := generate(t, o), generate(t, o)
	if !bytes.Equal(a, b) {
		t.Fatal("the same options wrote different bytes")
	}
	o.Seed = 43
	if bytes.Equal(a, generate(t, o)) {
		t.Error("another seed wrote the same bytes")
	}
	o.Plain = true
	p1, p2 := generate(t, o), generate(t, o)
	if !bytes.Equal(p1, p2) {
		t.Error("the same options with plain passwords wrote different bytes")
	}
}

// TestGen_BoundedMemory checks that Write allocates the same small amount
// whatever the number of users.
func TestGen_BoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200k users")
	}
	o := Options{Orgs: 4, Users: 50_000, Grants: true, Metadata: 0.5, Members: 0.1, Bad: 0.01, BadTypes: 0.01, Plain: true}
	allocs := testing.AllocsPerRun(1, func() {
		if err := Write(io.Discard, o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 100 {
		t.Errorf("Write of %d users made %v allocations, want at most 100", o.Orgs*o.Users, allocs)
	}
}

func TestGen_ScanStrict(t *testing.T) {
	tests := []struct {
		name      string
		o         Options
		wantShape bool
	}{
		{"valid", Options{Orgs: 3, Users: 20, Grants: true, Metadata: 0.5, Members: 0.5, Bad: 0.3, OrgPrefix: "a\u00e9\"\\"}, false},
		{"valid v1", Options{Orgs: 3, Users: 20, Grants: true, Metadata: 0.5, Members: 0.5, Bad: 0.3, V1: true}, false},
		{"bad types", Options{Orgs: 2, Users: 20, BadTypes: 0.1}, true},
		{"bad types v1", Options{Orgs: 2, Users: 20, BadTypes: 0.1, V1: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := generate(t, tt.o)
			users := 0
			err := importdata.ScanOrgs(bytes.NewReader(data), importdata.ScanOptions{ChunkSize: 7, Strict: true, V1: tt.o.V1},
				func(l importdata.OrgLayout) error {
					if a := l.Arrays["humanUsers"]; a != nil {
						users += a.Count
					}
					return nil
				})
			var se *importdata.ShapeError
			if tt.wantShape {
				if !errors.As(err, &se) {
					t.Fatalf("ScanOrgs = %v, want a *ShapeError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ScanOrgs: %v", err)
			}
			if want := tt.o.Entities()["humanUsers"]; users != want {
				t.Errorf("scanned %d human users, want %d", users, want)
			}
		})
	}
}

// TestGen_BadUsers checks that every invalid user fails validation, and
// that each kind of flaw occurs.
func TestGen_BadUsers(t *testing.T) {
	o := Options{Users: 200, Grants: true, Metadata: 1, Members: 1, Bad: 1}
	orgs := decode(t, generate(t, o), false)
	seen := map[string]bool{}
	for j, it := range orgs[0].HumanUsers {
		if it.Err != nil {
			t.Fatalf("humanUsers[%d]: %v", j, it.Err)
		}
		err := it.V.Validate("u")
		var ve *importdata.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("humanUsers[%d].Validate = %v, want a *ValidationError", j, err)
		}
		for _, p := range ve.Problems {
			field, _, _ := strings.Cut(p, ":")
			seen[field] = true
		}
	}
	want := map[string]bool{
		"u.user.userName": true, "u.user.profile.lastName": true, "u.user.profile.preferredLanguage": true,
		"u.user.email.email": true, "u.user.phone.phone": true,
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("invalid fields (-want +got):\n%s", diff)
	}
	if n := len(orgs[0].UserGrants) + len(orgs[0].OrgMembers) + len(orgs[0].UserMetadata); n != 0 {
		t.Errorf("%d grants, members and metadata of invalid users, want none", n)
	}

	// Users with wrong types are element errors of each kind.
	o = Options{Users: 200, BadTypes: 1}
	orgs = decode(t, generate(t, o), false)
	kinds := map[string]bool{}
	for j, it := range orgs[0].HumanUsers {
		if it.Err == nil {
			t.Fatalf("humanUsers[%d] decoded, want a type error", j)
		}
		msg := importdata.DescribeError("u", it.Err)
		field, _, _ := strings.Cut(msg, ":")
		kinds[field] = true
	}
	if len(kinds) != flaws {
		t.Errorf("type errors at %v, want %d places", kinds, flaws)
	}
}

func TestGen_InvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"negative", Options{Orgs: -1, Users: -2}, []string{"Orgs: -1", "Users: -2"}},
		{"shares", Options{Metadata: 2, Members: -0.5, Bad: math.NaN()}, []string{"Metadata: 2", "Members: -0.5", "Bad: NaN"}},
		{"bad sum", Options{Bad: 0.6, BadTypes: 0.6}, []string{"Bad + BadTypes"}},
		{"prefix NUL", Options{OrgPrefix: "a\x00"}, []string{"NUL"}},
		{"prefix UTF-8", Options{OrgPrefix: "a\xff"}, []string{"UTF-8"}},
		{"prefix long", Options{OrgPrefix: strings.Repeat("a", MaxPrefixLen+1)}, []string{"longer than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.o)
			if err == nil {
				t.Fatal("Write succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if buf.Len() > 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestGen_WriteError(t *testing.T) {
	err := Write(failWriter{}, Options{Users: 100_000})
	if !errors.Is(err, errFull) {
		t.Errorf("Write = %v, want the writer's error", err)
	}
}

var errFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFull }

// TestGen_Hashes checks that the bcrypt literals are hashes of passwords.
func TestGen_Hashes(t *testing.T) {
	for i, h := range hashes {
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(Password(i))); err != nil {
			t.Errorf("hashes[%d] is not the hash of %q: %v", i, Password(i), err)
		}
	}
}

// BenchmarkGen_Write measures the throughput of Write (MB/s of output).
func BenchmarkGen_Write(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    Options
	}{
		{"hashed", Options{Orgs: 10, Users: 10_000}},
		{"all", Options{Orgs: 10, Users: 10_000, Grants: true, Metadata: 0.5, Members: 0.1, Bad: 0.01, BadTypes: 0.01, Plain: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var cw countWriter
			if err := Write(&cw, bc.o); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(cw))
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, bc.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
