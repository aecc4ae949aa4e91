package instance

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/language"
)

// BuildConfig is what Build needs besides the request.
type BuildConfig struct {
	// ExternalDomain is the parent domain of generated instance domains
	// (ZIMPORT_EXTERNAL_DOMAIN).
	ExternalDomain string
	// BcryptCost is the cost of the owner's password hash. Default (0)
	// bcrypt.DefaultCost, 10.
	BcryptCost int
	// Now is the creation time of everything in the plan.
	Now time.Time
}

// Defaults of the plan.
const (
	// DefaultLanguage is the instance language when the request names none
	// (or "und").
	DefaultLanguage = "en"
	// OrgOwnerRole is the role of the owner on the first org.
	OrgOwnerRole = "ORG_OWNER"
	// KeyBits is the size of generated RSA machine keys.
	KeyBits = 2048
)

// DefaultExpiration is the expiration of a PAT or machine key whose request
// names none: 9999-12-31T23:59:59Z, as ZITADEL.
var DefaultExpiration = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// PATScopes are the fixed scopes of the owner's PAT.
var PATScopes = []string{"openid", "profile", "urn:zitadel:iam:user:metadata", "urn:zitadel:iam:user:resourceowner"}

// User types and states of Plan.Owner.
const (
	UserTypeHuman     = "human"
	UserTypeMachine   = "machine"
	UserStateActive   = "USER_STATE_ACTIVE"
	UserStateInitial  = "USER_STATE_INITIAL"
	AccessTokenBearer = "ACCESS_TOKEN_TYPE_BEARER"
)

// Plan is everything a new instance consists of, ready to be written in one
// transaction. It holds no secret: the PAT only as its SHA-256, the machine
// key only as its public half.
type Plan struct {
	InstanceID      string
	Name            string
	DefaultLanguage string
	// CreatedAt is BuildConfig.Now in UTC, truncated to microseconds (the
	// precision of PostgreSQL).
	CreatedAt time.Time
	// Domains are the generated domain and the custom one, if any; exactly
	// one is primary (the custom one when given). Names are lower case.
	Domains []Domain
	// Org is the first org, the instance's default org.
	Org Org
	// Owner is the first user, in Org, with OwnerRoles on it.
	Owner      User
	OwnerRoles []string
	// PAT and MachineKey are the owner's credentials, when asked for.
	PAT        *PAT
	MachineKey *MachineKey
	// Sequence is the number of objects the plan creates; it is the answer's
	// details.sequence (ZITADEL's is the sequence of its last event).
	Sequence uint64
}

// Domain is an instance domain.
type Domain struct {
	Name      string
	Primary   bool
	Generated bool
}

// Org is the first org.
type Org struct {
	ID   string
	Name string
}

// User is the owner. Human fields are empty for a machine and vice versa.
type User struct {
	ID       string
	Type     string // UserTypeHuman or UserTypeMachine
	UserName string
	State    string
	// Human.
	FirstName              string
	LastName               string
	DisplayName            string
	PreferredLanguage      string
	Email                  string
	EmailVerified          bool
	PasswordHash           string // bcrypt, empty without a password
	PasswordChangeRequired bool
	// Machine.
	Name            string
	AccessTokenType string
}

// PAT is the stored half of a personal access token of the owner.
type PAT struct {
	ID        string
	Hash      []byte // TokenHash of the token
	Scopes    []string
	ExpiresAt time.Time
}

// MachineKey is the stored half of a machine key of the owner.
type MachineKey struct {
	ID        string
	Type      string // KEY_TYPE_JSON
	PublicKey []byte // PKIX DER
	ExpiresAt time.Time
}

// Secrets are the credentials handed to the client once, in the job's
// sealed result.
type Secrets struct {
	// PAT is the personal access token, empty when none was asked for.
	PAT string
	// MachineKeyFile is the JSON key file (KeyFile), nil when none was asked for.
	MachineKeyFile []byte
}

// KeyFile is ZITADEL's machine key file.
type KeyFile struct {
	Type           string    `json:"type"` // "serviceaccount"
	KeyID          string    `json:"keyId"`
	Key            string    `json:"key"` // PKCS#1 PEM of the private key
	ExpirationDate time.Time `json:"expirationDate"`
	UserID         string    `json:"userId"`
}

// Build plans the instance of a valid request (see ParseRequest). Ids are
// random 18-digit decimal strings, the shape of ZITADEL's ids, drawn from
// crypto/rand. The generated domain is
// "<slug of instanceName>-<6 random [a-z0-9]>.<ExternalDomain>". Build hashes
// the password with bcrypt and generates the RSA key, so it takes a moment.
func Build(req *Request, cfg BuildConfig) (Plan, Secrets, error) {
	if (req.Human == nil) == (req.Machine == nil) {
		return Plan{}, Secrets{}, errors.New("build instance: exactly one of human or machine is required")
	}
	now := cfg.Now.UTC().Truncate(time.Microsecond)
	p := Plan{
		InstanceID:      newID(),
		Name:            strings.TrimSpace(req.InstanceName),
		DefaultLanguage: DefaultLanguage,
		CreatedAt:       now,
		OwnerRoles:      []string{OrgOwnerRole},
	}
	if tag, err := language.Parse(req.DefaultLanguage); err == nil && tag != language.Und {
		p.DefaultLanguage = tag.String()
	}

	generated := slug(p.Name) + "-" + randomString(6, lowerAlnum) + "." + strings.ToLower(strings.TrimSpace(cfg.ExternalDomain))
	p.Domains = []Domain{{Name: generated, Primary: true, Generated: true}}
	if d := strings.ToLower(strings.TrimSpace(req.CustomDomain)); d != "" && d != generated {
		p.Domains[0].Primary = false
		p.Domains = append(p.Domains, Domain{Name: d, Primary: true})
	}

	p.Org = Org{ID: newID(), Name: strings.TrimSpace(req.FirstOrgName)}
	if p.Org.Name == "" {
		p.Org.Name = p.Name
	}

	var sec Secrets
	p.Owner.ID = newID()
	if h := req.Human; h != nil {
		if err := buildHuman(&p.Owner, h, cfg.BcryptCost); err != nil {
			return Plan{}, Secrets{}, err
		}
	} else {
		m := req.Machine
		p.Owner.Type = UserTypeMachine
		p.Owner.UserName = strings.TrimSpace(m.UserName)
		p.Owner.Name = strings.TrimSpace(m.Name)
		p.Owner.State = UserStateActive
		p.Owner.AccessTokenType = AccessTokenBearer
		if t := m.PersonalAccessToken; t != nil {
			token := randomToken()
			p.PAT = &PAT{ID: newID(), Hash: TokenHash(token), Scopes: PATScopes, ExpiresAt: expiration(t.ExpirationDate)}
			sec.PAT = token
		}
		if k := m.MachineKey; k != nil {
			key, file, err := newMachineKey(p.Owner.ID, expiration(k.ExpirationDate))
			if err != nil {
				return Plan{}, Secrets{}, err
			}
			p.MachineKey = key
			sec.MachineKeyFile = file
		}
	}

	// instance, domains, org, owner, membership, credentials
	p.Sequence = uint64(1 + len(p.Domains) + 1 + 1 + 1)
	if p.PAT != nil {
		p.Sequence++
	}
	if p.MachineKey != nil {
		p.Sequence++
	}
	return p, sec, nil
}

func buildHuman(u *User, h *Human, cost int) error {
	u.Type = UserTypeHuman
	u.UserName = strings.TrimSpace(h.UserName)
	if h.Email != nil {
		u.Email = strings.TrimSpace(h.Email.Email)
		u.EmailVerified = h.Email.IsEmailVerified
	}
	if pr := h.Profile; pr != nil {
		u.FirstName = strings.TrimSpace(pr.FirstName)
		u.LastName = strings.TrimSpace(pr.LastName)
		u.PreferredLanguage = pr.PreferredLanguage
	}
	u.DisplayName = strings.TrimSpace(u.FirstName + " " + u.LastName)
	if u.DisplayName == "" {
		u.DisplayName = u.UserName
	}
	if pw := h.Password; pw != nil && pw.Password != "" {
		if cost == 0 {
			cost = bcrypt.DefaultCost
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(pw.Password), cost)
		if err != nil {
			return fmt.Errorf("hash owner password: %w", err)
		}
		u.PasswordHash = string(hash)
		u.PasswordChangeRequired = pw.PasswordChangeRequired
	}
	// ZITADEL sends an initialization code (and the user stays initial)
	// when the e-mail is not verified or no password is set.
	u.State = UserStateActive
	if !u.EmailVerified || u.PasswordHash == "" {
		u.State = UserStateInitial
	}
	return nil
}

// newMachineKey generates an RSA key and returns its stored half and the
// key file.
func newMachineKey(userID string, expires time.Time) (*MachineKey, []byte, error) {
	priv, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate machine key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal machine key: %w", err)
	}
	key := &MachineKey{ID: newID(), Type: KeyTypeJSON.String(), PublicKey: pub, ExpiresAt: expires}
	file, err := json.Marshal(KeyFile{
		Type:           "serviceaccount",
		KeyID:          key.ID,
		Key:            string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})),
		ExpirationDate: expires,
		UserID:         userID,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("marshal machine key file: %w", err)
	}
	return key, file, nil
}

// expiration returns t in UTC (microseconds), or DefaultExpiration when t is zero.
func expiration(t time.Time) time.Time {
	if t.IsZero() {
		return DefaultExpiration
	}
	return t.UTC().Truncate(time.Microsecond)
}

// TokenHash returns the SHA-256 of a PAT, the only form in which it is
// stored and looked up.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// randomToken returns an opaque PAT: 32 random bytes, base64url without padding.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

var (
	idMin   = big.NewInt(100_000_000_000_000_000) // 10^17: 18 digits
	idRange = big.NewInt(900_000_000_000_000_000) // up to 10^18 - 1
)

// newID returns a random 18-digit decimal id.
func newID() string {
	n, err := rand.Int(rand.Reader, idRange)
	if err != nil {
		panic("instance: no randomness: " + err.Error()) // crypto/rand never fails
	}
	return n.Add(n, idMin).String()
}

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("instance: no randomness: " + err.Error())
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// maxSlug keeps "<slug>-<6 random>" within a 63-byte DNS label.
const maxSlug = 63 - 7

// slug turns an instance name into a domain label: lower case, spaces as
// '-', only [a-z0-9-], no leading, trailing or doubled '-', at most maxSlug
// bytes; "instance" when nothing is left.
func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteByte('-')
			}
		}
	}
	s := b.String()
	if len(s) > maxSlug {
		s = s[:maxSlug]
	}
	s = strings.Trim(s, "-")
	if s == "" {
		return "instance"
	}
	return s
}
