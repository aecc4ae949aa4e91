package instance

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const machineOwner = `"machine":{"userName":"importer","name":"Importer"}`

func TestParseRequest(t *testing.T) {
	long := strings.Repeat("a", 201)
	tests := []struct {
		name string
		body string
		// want is a substring of the error message; "" means valid.
		want string
	}{
		{"minimal machine", `{"instanceName":"Acme",` + machineOwner + `}`, ""},
		{"snake case and unknown fields", `{"instance_name":"Acme","first_org_name":"Org","custom_domain":"login.acme.com","bogus":1,
			"machine":{"user_name":"importer","name":"Importer","personal_access_token":{"expiration_date":"2519-04-01T08:45:00.000000Z"},
			"machine_key":{"type":1}},"default_language":"de"}`, ""},
		{"full human", `{"instanceName":"Acme","human":{"userName":"admin","email":{"email":"a@acme.com","isEmailVerified":true},
			"profile":{"firstName":"Ada","lastName":"Admin","preferredLanguage":"en"},"password":{"password":"Secret-123","passwordChangeRequired":true}}}`, ""},
		{"not JSON", `{"instanceName":`, "body is not valid JSON at byte"},
		{"not an object", `[]`, "body: expected an object"},
		{"wrong type", `{"instanceName":5,` + machineOwner + `}`, "instanceName: expected a string, got number"},
		{"instanceName missing", `{` + machineOwner + `}`, "instanceName: is required"},
		{"instanceName blank", `{"instanceName":"  ",` + machineOwner + `}`, "instanceName: is required"},
		{"instanceName too long", `{"instanceName":"` + long + `",` + machineOwner + `}`, "instanceName: at most 200 characters"},
		{"firstOrgName too long", `{"instanceName":"A","firstOrgName":"` + long + `",` + machineOwner + `}`, "firstOrgName: at most 200 characters"},
		{"customDomain too long", `{"instanceName":"A","customDomain":"` + long + `.com",` + machineOwner + `}`, "customDomain: at most 200 characters"},
		{"customDomain invalid character", `{"instanceName":"A","customDomain":"acme_corp.com",` + machineOwner + `}`, "customDomain: contains an invalid character"},
		{"customDomain with slash", `{"instanceName":"A","customDomain":"acme.com/x",` + machineOwner + `}`, "customDomain: contains an invalid character"},
		{"customDomain empty label", `{"instanceName":"A","customDomain":"acme..com",` + machineOwner + `}`, "customDomain: contains an invalid character"},
		{"customDomain with port", `{"instanceName":"A","customDomain":"localhost:8080",` + machineOwner + `}`, ""},
		{"defaultLanguage too long", `{"instanceName":"A","defaultLanguage":"en-US-x-abcdefgh",` + machineOwner + `}`, "defaultLanguage: at most 10 characters"},
		{"defaultLanguage not a tag", `{"instanceName":"A","defaultLanguage":"english!",` + machineOwner + `}`, "defaultLanguage: \"english!\" is not a BCP 47 language tag"},
		{"no owner", `{"instanceName":"A"}`, "exactly one of human or machine is required"},
		{"both owners", `{"instanceName":"A",` + machineOwner + `,"human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A"}}}`,
			"exactly one of human or machine is required"},
		{"null owner", `{"instanceName":"A","human":null}`, "exactly one of human or machine is required"},
		{"human userName missing", `{"instanceName":"A","human":{"email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A"}}}`, "human.userName: is required"},
		{"human userName too long", `{"instanceName":"A","human":{"userName":"` + long + `","email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A"}}}`,
			"human.userName: at most 200 characters"},
		{"human email missing", `{"instanceName":"A","human":{"userName":"h","profile":{"firstName":"H","lastName":"A"}}}`, "human.email: is required"},
		{"human email empty", `{"instanceName":"A","human":{"userName":"h","email":{},"profile":{"firstName":"H","lastName":"A"}}}`, "human.email.email: is required"},
		{"human email invalid", `{"instanceName":"A","human":{"userName":"h","email":{"email":"not an address"},"profile":{"firstName":"H","lastName":"A"}}}`,
			"human.email.email: is not a valid e-mail address"},
		{"human email with name", `{"instanceName":"A","human":{"userName":"h","email":{"email":"Ada <a@acme.com>"},"profile":{"firstName":"H","lastName":"A"}}}`,
			"human.email.email: is not a valid e-mail address"},
		{"human profile missing", `{"instanceName":"A","human":{"userName":"h","email":{"email":"h@a.com"}}}`, "human.profile: is required"},
		{"human firstName missing", `{"instanceName":"A","human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"lastName":"A"}}}`, "human.profile.firstName: is required"},
		{"human lastName missing", `{"instanceName":"A","human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"firstName":"H"}}}`, "human.profile.lastName: is required"},
		{"human preferredLanguage too long", `{"instanceName":"A","human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A","preferredLanguage":"abcdefghijk"}}}`,
			"human.profile.preferredLanguage: at most 10 characters"},
		{"human password too long", `{"instanceName":"A","human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A"},"password":{"password":"` + long + `"}}}`,
			"human.password.password: at most 200 characters"},
		{"human password over bcrypt limit", `{"instanceName":"A","human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A"},"password":{"password":"Aa1-` + strings.Repeat("x", 70) + `"}}}`,
			"human.password.password: at most 72 bytes"},
		{"human password too weak", `{"instanceName":"A","human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A"},"password":{"password":"password"}}}`,
			"human.password.password: does not meet the password complexity policy"},
		{"machine userName missing", `{"instanceName":"A","machine":{"name":"Importer"}}`, "machine.userName: is required"},
		{"machine name missing", `{"instanceName":"A","machine":{"userName":"importer"}}`, "machine.name: is required"},
		{"machine userName too long", `{"instanceName":"A","machine":{"userName":"` + long + `","name":"I"}}`, "machine.userName: at most 200 characters"},
		{"PAT expiration in the past", `{"instanceName":"A","machine":{"userName":"i","name":"I","personalAccessToken":{"expirationDate":"2020-01-01T00:00:00Z"}}}`,
			"machine.personalAccessToken.expirationDate is in the past"},
		{"PAT expiration not a timestamp", `{"instanceName":"A","machine":{"userName":"i","name":"I","personalAccessToken":{"expirationDate":"tomorrow"}}}`,
			"machine.personalAccessToken.expirationDate: parsing time"},
		{"PAT without expiration", `{"instanceName":"A","machine":{"userName":"i","name":"I","personalAccessToken":{}}}`, ""},
		{"key type unspecified", `{"instanceName":"A","machine":{"userName":"i","name":"I","machineKey":{}}}`, "machine.machineKey.type: must be KEY_TYPE_JSON"},
		{"key type by name", `{"instanceName":"A","machine":{"userName":"i","name":"I","machineKey":{"type":"KEY_TYPE_JSON"}}}`, ""},
		{"key type unknown", `{"instanceName":"A","machine":{"userName":"i","name":"I","machineKey":{"type":"KEY_TYPE_X509"}}}`,
			`machine.machineKey.type: unknown value "KEY_TYPE_X509" (want KEY_TYPE_UNSPECIFIED or KEY_TYPE_JSON, or their numbers 0 or 1)`},
		{"key type unknown number", `{"instanceName":"A","machine":{"userName":"i","name":"I","machineKey":{"type":2}}}`,
			"machine.machineKey.type: unknown value 2 (want KEY_TYPE_UNSPECIFIED or KEY_TYPE_JSON, or their numbers 0 or 1)"},
		{"key expiration in the past", `{"instanceName":"A","machine":{"userName":"i","name":"I","machineKey":{"type":1,"expirationDate":"2025-06-01T11:59:59Z"}}}`,
			"machine.machineKey.expirationDate is in the past"},
		{"several problems at once", `{"instanceName":"","machine":{"userName":"i"}}`, "instanceName: is required; machine.name: is required"},
		{"member twice", `{"instanceName":"A","instance_name":"B",` + machineOwner + `}`, "instance_name repeats an earlier member"},
		{"nested member twice", `{"instanceName":"A","machine":{"userName":"i","user_name":"j","name":"I"}}`, "machine: user_name repeats an earlier member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(tt.body), testNow)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ParseRequest() error = %v, want none", err)
				}
				if req == nil {
					t.Fatal("ParseRequest() = nil, want a request")
				}
				return
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("ParseRequest() error = %v (%T), want a *RequestError", err, err)
			}
			if !strings.Contains(re.Msg, tt.want) {
				t.Errorf("ParseRequest() error = %q, want it to contain %q", re.Msg, tt.want)
			}
		})
	}
}

func TestParseRequest_NUL(t *testing.T) {
	const human = `"human":{"userName":"h","email":{"email":"h@a.com"},"profile":{"firstName":"H","lastName":"A","preferredLanguage":"en"},"password":{"password":"Secret-123"}}`
	for _, field := range []string{
		"instanceName", "firstOrgName", "customDomain", "defaultLanguage",
		"human.userName", "human.email.email", "human.profile.firstName", "human.profile.lastName",
		"human.profile.preferredLanguage", "human.password.password",
		"machine.userName", "machine.name",
	} {
		t.Run(field, func(t *testing.T) {
			body := `{"instanceName":"A","firstOrgName":"O","customDomain":"a.example.com","defaultLanguage":"en",`
			if strings.HasPrefix(field, "human.") {
				body += human + `}`
			} else {
				body += machineOwner + `}`
			}
			// Put a NUL into the field's value: the last member of that name.
			name := field[strings.LastIndex(field, ".")+1:]
			i := strings.LastIndex(body, `"`+name+`":"`) + len(name) + 4
			body = body[:i] + `\u0000` + body[i:]
			_, err := ParseRequest([]byte(body), testNow)
			want := field + `: must not contain the NUL character (\u0000)`
			var re *RequestError
			if !errors.As(err, &re) || !strings.Contains(re.Msg, want) {
				t.Errorf("ParseRequest(%s) error = %v, want it to contain %q", body, err, want)
			}
		})
	}
}

func TestParseRequest_Decodes(t *testing.T) {
	body := `{"instance_name":"Acme","machine":{"userName":"importer","name":"Importer",
		"personalAccessToken":{"expirationDate":"2519-04-01T08:45:00.000000Z"},"machineKey":{"type":"1"}}}`
	got, err := ParseRequest([]byte(body), testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{
		InstanceName: "Acme",
		Machine: &Machine{
			UserName:            "importer",
			Name:                "Importer",
			PersonalAccessToken: &PersonalAccessToken{ExpirationDate: time.Date(2519, 4, 1, 8, 45, 0, 0, time.UTC)},
			MachineKey:          &MachineKeyRequest{Type: KeyTypeJSON},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseRequest() (-want +got):\n%s", diff)
	}
}

func parse(t testing.TB, body string) *Request {
	t.Helper()
	req, err := ParseRequest([]byte(body), testNow)
	if err != nil {
		t.Fatalf("ParseRequest(%s): %v", body, err)
	}
	return req
}

var testConfig = BuildConfig{ExternalDomain: "Zimport.Example", BcryptCost: bcrypt.MinCost, Now: testNow.Add(1500 * time.Nanosecond)}

func TestBuild_Machine(t *testing.T) {
	req := parse(t, `{"instanceName":"  Acme Corp_ÄG  ","customDomain":"Login.Acme.com","defaultLanguage":"DE",
		"machine":{"userName":"importer","name":"Importer","personalAccessToken":{},
		"machineKey":{"type":"KEY_TYPE_JSON","expirationDate":"2030-01-02T03:04:05Z"}}}`)
	p, sec, err := Build(req, testConfig)
	if err != nil {
		t.Fatal(err)
	}

	idRE := regexp.MustCompile(`^[1-9][0-9]{17}$`)
	for name, id := range map[string]string{"instance": p.InstanceID, "org": p.Org.ID, "owner": p.Owner.ID, "pat": p.PAT.ID, "key": p.MachineKey.ID} {
		if !idRE.MatchString(id) {
			t.Errorf("%s id = %q, want 18 digits", name, id)
		}
	}
	if len(p.Domains) != 2 {
		t.Fatalf("Domains = %+v, want generated and custom", p.Domains)
	}
	gen := p.Domains[0]
	if !regexp.MustCompile(`^acme-corpg-[a-z0-9]{6}\.zimport\.example$`).MatchString(gen.Name) || !gen.Generated || gen.Primary {
		t.Errorf("generated domain = %+v, want acme-corpg-<6>.zimport.example, not primary", gen)
	}
	if diff := cmp.Diff(Domain{Name: "login.acme.com", Primary: true}, p.Domains[1]); diff != "" {
		t.Errorf("custom domain (-want +got):\n%s", diff)
	}

	wantCreated := testNow.Add(time.Microsecond)
	if !p.CreatedAt.Equal(wantCreated) || p.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", p.CreatedAt, wantCreated)
	}
	if p.Name != "Acme Corp_ÄG" || p.Org.Name != p.Name || p.DefaultLanguage != "de" {
		t.Errorf("name, org, language = %q, %q, %q; want trimmed name for both and de", p.Name, p.Org.Name, p.DefaultLanguage)
	}
	wantOwner := User{ID: p.Owner.ID, Type: UserTypeMachine, UserName: "importer", State: UserStateActive, Name: "Importer", AccessTokenType: AccessTokenBearer}
	if diff := cmp.Diff(wantOwner, p.Owner); diff != "" {
		t.Errorf("Owner (-want +got):\n%s", diff)
	}

	// PAT: opaque 32 bytes, only its SHA-256 in the plan.
	raw, err := base64.RawURLEncoding.DecodeString(sec.PAT)
	if err != nil || len(raw) != 32 {
		t.Errorf("PAT %q is not base64url of 32 bytes: %v", sec.PAT, err)
	}
	sum := sha256.Sum256([]byte(sec.PAT))
	if !bytes.Equal(p.PAT.Hash, sum[:]) || !bytes.Equal(TokenHash(sec.PAT), sum[:]) {
		t.Error("PAT hash is not the SHA-256 of the token")
	}
	if !p.PAT.ExpiresAt.Equal(DefaultExpiration) {
		t.Errorf("PAT expires %v, want %v", p.PAT.ExpiresAt, DefaultExpiration)
	}
	if diff := cmp.Diff(PATScopes, p.PAT.Scopes); diff != "" {
		t.Errorf("PAT scopes (-want +got):\n%s", diff)
	}

	// Machine key: the file's private key matches the stored public key.
	var kf KeyFile
	if err := json.Unmarshal(sec.MachineKeyFile, &kf); err != nil {
		t.Fatalf("key file: %v", err)
	}
	if kf.Type != "serviceaccount" || kf.KeyID != p.MachineKey.ID || kf.UserID != p.Owner.ID ||
		!kf.ExpirationDate.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) || !p.MachineKey.ExpiresAt.Equal(kf.ExpirationDate) {
		t.Errorf("key file = %+v, plan key = %+v", kf, p.MachineKey)
	}
	block, _ := pem.Decode([]byte(kf.Key))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("key is not a PKCS#1 PEM: %q", kf.Key)
	}
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("ParsePKCS1PrivateKey: %v", err)
	}
	if priv.N.BitLen() != KeyBits {
		t.Errorf("key size = %d bits, want %d", priv.N.BitLen(), KeyBits)
	}
	pub, err := x509.ParsePKIXPublicKey(p.MachineKey.PublicKey)
	if err != nil {
		t.Fatalf("ParsePKIXPublicKey: %v", err)
	}
	if !priv.PublicKey.Equal(pub.(*rsa.PublicKey)) {
		t.Error("stored public key does not match the key file")
	}
	if p.MachineKey.Type != "KEY_TYPE_JSON" {
		t.Errorf("key type = %q", p.MachineKey.Type)
	}
	if p.Sequence != 8 {
		t.Errorf("Sequence = %d, want 8", p.Sequence)
	}

	// The response carries the secrets and the plan's ids.
	b, err := NewResponse(p, sec).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var resp map[string]any
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(resp["machineKey"].(string))
	wantResp := map[string]any{
		"instanceId": p.InstanceID,
		"details": map[string]any{
			"sequence":      "8",
			"creationDate":  "2025-06-01T12:00:00.000001Z",
			"resourceOwner": p.Org.ID,
		},
		"pat":        sec.PAT,
		"machineKey": resp["machineKey"],
	}
	if diff := cmp.Diff(wantResp, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if !bytes.Equal(key, sec.MachineKeyFile) {
		t.Error("response machineKey is not base64 of the key file")
	}
}

func TestBuild_Human(t *testing.T) {
	req := parse(t, `{"instanceName":"日本","firstOrgName":" First Org ","human":{"userName":" admin ",
		"email":{"email":"admin@acme.com","isEmailVerified":true},
		"profile":{"firstName":"Ada","lastName":"Admin","preferredLanguage":"en"},
		"password":{"password":"Secret-123","passwordChangeRequired":true}}}`)
	p, sec, err := Build(req, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if sec.PAT != "" || sec.MachineKeyFile != nil || p.PAT != nil || p.MachineKey != nil {
		t.Errorf("a human owner got credentials: %+v %+v", sec, p)
	}
	if len(p.Domains) != 1 || !regexp.MustCompile(`^instance-[a-z0-9]{6}\.zimport\.example$`).MatchString(p.Domains[0].Name) || !p.Domains[0].Primary {
		t.Errorf("Domains = %+v, want one primary instance-<6>.zimport.example", p.Domains)
	}
	if p.Org.Name != "First Org" || p.DefaultLanguage != DefaultLanguage {
		t.Errorf("org name %q, language %q", p.Org.Name, p.DefaultLanguage)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(p.Owner.PasswordHash), []byte("Secret-123")); err != nil {
		t.Errorf("password hash: %v", err)
	}
	wantOwner := User{
		ID: p.Owner.ID, Type: UserTypeHuman, UserName: "admin", State: UserStateActive,
		FirstName: "Ada", LastName: "Admin", DisplayName: "Ada Admin", PreferredLanguage: "en",
		Email: "admin@acme.com", EmailVerified: true, PasswordHash: p.Owner.PasswordHash, PasswordChangeRequired: true,
	}
	if diff := cmp.Diff(wantOwner, p.Owner); diff != "" {
		t.Errorf("Owner (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{OrgOwnerRole}, p.OwnerRoles); diff != "" {
		t.Errorf("OwnerRoles (-want +got):\n%s", diff)
	}

	b, err := NewResponse(p, sec).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"pat"`)) || bytes.Contains(b, []byte(`"machineKey"`)) || bytes.Contains(b, []byte(`changeDate`)) {
		t.Errorf("response has empty fields: %s", b)
	}

	// Without a password (or with an unverified e-mail) the owner must be initialized.
	req = parse(t, `{"instanceName":"A","human":{"userName":"a","email":{"email":"a@acme.com","isEmailVerified":true},"profile":{"firstName":"A","lastName":"B"}}}`)
	p, _, err = Build(req, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if p.Owner.State != UserStateInitial || p.Owner.PasswordHash != "" {
		t.Errorf("owner without password: state %q, hash %q; want initial and none", p.Owner.State, p.Owner.PasswordHash)
	}
}

func TestBuild_Unique(t *testing.T) {
	req := parse(t, `{"instanceName":"Acme",`+machineOwner+`}`)
	a, _, err := Build(req, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Build(req, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if a.InstanceID == b.InstanceID || a.Org.ID == b.Org.ID || a.Domains[0].Name == b.Domains[0].Name {
		t.Errorf("two builds share ids or domains: %+v, %+v", a, b)
	}
}

func TestSlug(t *testing.T) {
	tests := map[string]string{
		"Acme":                    "acme",
		"My  Big -- Instance":     "my-big-instance",
		" -x- ":                   "x",
		"Ünïcode Name!":           "ncode-name",
		"!!!":                     "instance",
		strings.Repeat("ab", 40):  strings.Repeat("ab", 28),
		strings.Repeat("a ", 100): strings.TrimSuffix(strings.Repeat("a-", 28), "-"),
	}
	for in, want := range tests {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	tests := map[time.Duration]string{
		0:                           "2025-06-01T12:00:00Z",
		120 * time.Millisecond:      "2025-06-01T12:00:00.120Z",
		1500 * time.Microsecond:     "2025-06-01T12:00:00.001500Z",
		time.Nanosecond:             "2025-06-01T12:00:00.000000001Z",
		999999999 * time.Nanosecond: "2025-06-01T12:00:00.999999999Z",
	}
	for d, want := range tests {
		if got := Timestamp(testNow.Add(d).In(time.FixedZone("X", 3600))); got != want {
			t.Errorf("Timestamp(+%v) = %q, want %q", d, got, want)
		}
	}
}
