// Package gen writes generated ZITADEL import files: {"orgs":[...]}, the
// content of an ImportDataRequest's dataOrgs (or dataOrgsv1), with orgs,
// human users and, on request, a project with a user grant per user, user
// metadata, org members, and users that are invalid on purpose. The output
// is a deterministic function of the Options and is streamed: memory does
// not grow with the number of users.
package gen

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Options say what Write generates. The zero Options generate one org
// without users.
//
// Shares are spread evenly over the users, not drawn at random, so that
// Entities knows the counts: of n users, Bad picks floor(n*Bad) and
// BadTypes n*BadTypes within one; of the v valid users (the others),
// Metadata picks floor(v*Metadata) and Members round(v*Members). Only valid
// users get a grant, metadata or a membership, so that every error of an
// import of the file is one of the users made invalid.
type Options struct {
	// Orgs is the number of orgs (default 1). Org 7 (from 0) has the id
	// "<OrgPrefix>org-0007" and the name "<OrgPrefix>Org 0007".
	Orgs int
	// Users is the number of human users per org. User 123 of org 7 has the
	// id and user name "<OrgPrefix>user-0007-000123", unique in the
	// instance, and an e-mail address at org-0007.example.com.
	Users int
	// Grants gives each org a project ("<OrgPrefix>proj-000i") with the
	// role "user", and each valid user a user grant of that role.
	Grants bool
	// Metadata is the share (0..1) of valid users with one metadata entry.
	Metadata float64
	// Members is the share (0..1) of valid users that are members of their
	// org, with one of ZITADEL's org roles (ORG_OWNER, ORG_USER_MANAGER,
	// ORG_OWNER_VIEWER).
	Members float64
	// Plain gives users random plain passwords meeting ZITADEL's default
	// complexity policy (12 characters: upper and lower case letters,
	// digits, a symbol), which the import hashes, instead of bcrypt hashes
	// (cost 10) of known passwords (see Password).
	Plain bool
	// Bad is the share (0..1) of users that break a rule of zimport's entity
	// validation (an invalid e-mail address or phone number, an empty user
	// name, no last name, a too long preferred language): the import reports
	// each as an entity error.
	Bad float64
	// BadTypes is the share (0..1) of users with a JSON value of the wrong
	// type ("isEmailVerified": "yes", "profile": 5, ...): a file import
	// reports each as an entity error, an inline import refuses the request.
	// Bad + BadTypes is at most 1.
	BadTypes float64
	// V1 writes the v1 format (the content of dataOrgsv1): the same data
	// without the v2-only orgState.
	V1 bool
	// Seed chooses names, languages, phone numbers, metadata values, roles
	// and plain passwords. The same Options write the same bytes.
	Seed int64
	// OrgPrefix starts every id and org and user name, so that several
	// generated files can go into one instance. It must be valid UTF-8
	// without NUL, of at most MaxPrefixLen bytes. ZITADEL compares names
	// ignoring case: prefixes that differ only in case clash.
	OrgPrefix string
}

// MaxPrefixLen is the longest Options.OrgPrefix, in bytes; ids stay below
// the 200 characters zimport allows.
const MaxPrefixLen = 100

// Keys of Entities besides the JSON names of the entity arrays.
const (
	// InvalidUsers counts the humanUsers that fail validation (Options.Bad).
	InvalidUsers = "invalidHumanUsers"
	// BadTypeUsers counts the humanUsers with a value of the wrong type
	// (Options.BadTypes).
	BadTypeUsers = "badTypeHumanUsers"
)

// Password returns the plain password of the pre-hashed password of the
// user of index user (from 0) of its org.
func Password(user int) string { return passwords[user%len(passwords)] }

// withDefaults returns o with the defaults of unset fields.
func (o Options) withDefaults() Options {
	if o.Orgs == 0 {
		o.Orgs = 1
	}
	return o
}

// Validate returns an error listing every field of o that Write refuses.
func (o Options) Validate() error {
	var errs []error
	if o.Orgs < 0 {
		errs = append(errs, fmt.Errorf("Orgs: %d is negative", o.Orgs))
	}
	if o.Users < 0 {
		errs = append(errs, fmt.Errorf("Users: %d is negative", o.Users))
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"Metadata", o.Metadata}, {"Members", o.Members}, {"Bad", o.Bad}, {"BadTypes", o.BadTypes}} {
		if !(s.v >= 0 && s.v <= 1) {
			errs = append(errs, fmt.Errorf("%s: %v is not a share from 0 to 1", s.name, s.v))
		}
	}
	if o.Bad+o.BadTypes > 1 {
		errs = append(errs, fmt.Errorf("Bad + BadTypes: %v is more than 1", o.Bad+o.BadTypes))
	}
	switch {
	case len(o.OrgPrefix) > MaxPrefixLen:
		errs = append(errs, fmt.Errorf("OrgPrefix: longer than %d bytes", MaxPrefixLen))
	case !utf8.ValidString(o.OrgPrefix):
		errs = append(errs, errors.New("OrgPrefix: not valid UTF-8"))
	case strings.IndexByte(o.OrgPrefix, 0) >= 0:
		errs = append(errs, errors.New("OrgPrefix: contains the NUL character"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("generator options: %w", errors.Join(errs...))
	}
	return nil
}

// Entities returns the number of entities the file of o holds, by the JSON
// name of their array ("orgs", "humanUsers", "projects", "projectRoles",
// "userGrants", "orgMembers", "userMetadata"), and of the humanUsers the
// invalid ones (InvalidUsers) and those with wrong types (BadTypeUsers).
// Kinds the file has none of are left out. The counts are for Options that
// Validate accepts.
func (o Options) Entities() map[string]int {
	o = o.withDefaults()
	p := o.plan()
	n := int64(o.Orgs) * int64(o.Users)
	invalid := spread(n, p.bad, 0)
	badTypes := spread(n-invalid, p.badTypes, 0)
	valid := n - invalid - badTypes
	m := map[string]int{"orgs": o.Orgs}
	add := func(kind string, v int64) {
		if v > 0 {
			m[kind] = int(v)
		}
	}
	add("humanUsers", n)
	add(InvalidUsers, invalid)
	add(BadTypeUsers, badTypes)
	if o.Grants {
		add("projects", int64(o.Orgs))
		add("projectRoles", int64(o.Orgs))
		add("userGrants", valid)
	}
	add("orgMembers", spread(valid, p.members, membersPhase))
	add("userMetadata", spread(valid, p.metadata, 0))
	return m
}

// plan is where the shares of the Options fall.
type plan struct {
	bad      float64 // of all users
	badTypes float64 // of the users that are not bad
	metadata float64 // of the valid users
	members  float64 // of the valid users, shifted by membersPhase
}

// membersPhase shifts the members against the users with metadata, so that
// equal shares pick different users.
const membersPhase = 0.5

func (o Options) plan() plan {
	p := plan{bad: o.Bad, metadata: o.Metadata, members: o.Members}
	if o.Bad < 1 {
		p.badTypes = min(1, o.BadTypes/(1-o.Bad))
	}
	return p
}

// class is what a user is made to be.
type class uint8

const (
	valid    class = iota
	invalid        // fails validation
	badTyped       // has a value of the wrong type
)

// user returns the class of the user of index g in the whole file and, for
// a valid one, its index among the valid users.
func (p plan) user(g int64) (class, int64) {
	if picked(g, p.bad, 0) {
		return invalid, 0
	}
	k := g - spread(g, p.bad, 0)
	if picked(k, p.badTypes, 0) {
		return badTyped, 0
	}
	return valid, k - spread(k, p.badTypes, 0)
}

// spread returns how many of the first n elements of a sequence the share
// s picks, shifted by phase (0 or membersPhase). A tiny epsilon keeps
// products such as 270 * (0.1/0.9) from falling below the integer they
// stand for.
func spread(n int64, s, phase float64) int64 {
	return int64(math.Floor(float64(n)*s + phase + 1e-9))
}

// picked reports whether the share s picks the element of index i.
func picked(i int64, s, phase float64) bool {
	return spread(i+1, s, phase) > spread(i, s, phase)
}

// Write writes the import file of o to w, element by element through a
// buffer, so that memory stays constant whatever o.Orgs*o.Users. It
// returns an error for invalid Options, before writing anything, or the
// first error of w.
func Write(w io.Writer, o Options) error {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return err
	}
	g := newGenerator(w, o)
	g.payload()
	if g.err == nil {
		g.err = g.bw.Flush()
	}
	if g.err != nil {
		return fmt.Errorf("write import file: %w", g.err)
	}
	return nil
}

// Random streams: every user, and every metadata entry, has its own random
// numbers, seeded by Options.Seed, the stream and its index.
const (
	streamUser uint64 = iota + 1
	streamMetadata
	streamMember
)

// generator writes one file.
type generator struct {
	o      Options
	plan   plan
	bw     *bufio.Writer
	buf    []byte // the element being written
	tmp    []byte // scratch for values that are encoded
	prefix []byte // OrgPrefix JSON-escaped, without quotes
	pcg    *rand.PCG
	rnd    *rand.Rand
	err    error
}

func newGenerator(w io.Writer, o Options) *generator {
	pcg := rand.NewPCG(0, 0)
	return &generator{
		o:      o,
		plan:   o.plan(),
		bw:     bufio.NewWriterSize(w, 64<<10),
		buf:    make([]byte, 0, 4<<10),
		prefix: appendEscaped(nil, o.OrgPrefix),
		pcg:    pcg,
		rnd:    rand.New(pcg),
	}
}

// reseed starts the random numbers of the element of index i of stream.
func (g *generator) reseed(stream uint64, i int64) {
	g.pcg.Seed(uint64(g.o.Seed), mix(uint64(i)<<4|stream))
}

// mix is splitmix64's finalizer: nearby inputs give unrelated outputs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// emit writes the buffer and empties it.
func (g *generator) emit() {
	if g.err == nil {
		_, g.err = g.bw.Write(g.buf)
	}
	g.buf = g.buf[:0]
}

// array is an entity array of an org, opened at its first element so that
// an empty one is left out.
type array struct {
	name string
	open bool
}

// next starts an element of a.
func (g *generator) next(a *array) {
	if a.open {
		g.buf = append(g.buf, ",\n"...)
		return
	}
	a.open = true
	g.buf = append(g.buf, `,"`...)
	g.buf = append(g.buf, a.name...)
	g.buf = append(g.buf, "\":[\n"...)
}

// end closes a, when it was opened.
func (g *generator) end(a *array) {
	if a.open {
		g.buf = append(g.buf, "\n]"...)
	}
}

func (g *generator) payload() {
	g.buf = append(g.buf, "{\"orgs\":[\n"...)
	for org := range g.o.Orgs {
		if org > 0 {
			g.buf = append(g.buf, ",\n"...)
		}
		g.org(org)
		if g.err != nil {
			return
		}
	}
	g.buf = append(g.buf, "\n]}\n"...)
	g.emit()
}

func (g *generator) org(org int) {
	b := append(g.buf, `{"orgId":`...)
	b = g.appendID(b, "org-", org, -1)
	b = append(b, `,"org":{"name":"`...)
	b = append(b, g.prefix...)
	b = append(b, "Org "...)
	b = appendPadded(b, org, 4)
	b = append(b, `"}`...)
	if !g.o.V1 {
		b = append(b, `,"orgState":"ORG_STATE_ACTIVE"`...)
	}
	g.buf = b
	g.humanUsers(org)
	if g.o.Grants {
		g.project(org)
		g.userGrants(org)
	}
	g.orgMembers(org)
	g.userMetadata(org)
	g.buf = append(g.buf, '}')
	g.emit()
}

// users calls f with the index in org and class of each user of org, and
// the index among the valid users of a valid one.
func (g *generator) users(org int, f func(j int, c class, v int64)) {
	first := int64(org) * int64(g.o.Users)
	for j := range g.o.Users {
		if g.err != nil {
			return
		}
		c, v := g.plan.user(first + int64(j))
		f(j, c, v)
	}
}

func (g *generator) humanUsers(org int) {
	a := array{name: "humanUsers"}
	g.users(org, func(j int, c class, _ int64) {
		g.next(&a)
		g.humanUser(org, j, c)
		g.emit()
	})
	g.end(&a)
}

// Ways a user is invalid or has the wrong type; which one is chosen at random.
const (
	flawEmail = iota
	flawUserName
	flawLastName
	flawPhone
	flawLanguage
	flaws
)

// humanUser appends the user j of org, made to be of class c.
func (g *generator) humanUser(org, j int, c class) {
	g.reseed(streamUser, int64(org)*int64(g.o.Users)+int64(j))
	r := g.rnd
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	lang := languages[r.IntN(len(languages))]
	flaw := r.IntN(flaws)
	phone := r.IntN(2) == 0 || c == invalid && flaw == flawPhone
	flawed := func(f int, in class) bool { return c == in && flaw == f }

	b := append(g.buf, `{"userId":`...)
	b = g.appendID(b, "user-", org, j)
	b = append(b, `,"user":{"userName":`...)
	switch {
	case flawed(flawUserName, invalid):
		b = append(b, `""`...)
	case flawed(flawUserName, badTyped):
		b = strconv.AppendInt(b, int64(j), 10)
	default:
		b = g.appendID(b, "user-", org, j)
	}

	b = append(b, `,"profile":`...)
	if flawed(flawLastName, badTyped) {
		b = strconv.AppendInt(b, 5, 10)
	} else {
		b = append(b, `{"firstName":"`...)
		b = appendEscaped(b, first.text)
		if !flawed(flawLastName, invalid) {
			b = append(b, `","lastName":"`...)
			b = appendEscaped(b, last.text)
		}
		b = append(b, `","nickName":"`...)
		b = append(b, first.ascii...)
		b = append(b, `","displayName":"`...)
		b = appendEscaped(b, first.text)
		b = append(b, ' ')
		b = appendEscaped(b, last.text)
		b = append(b, `","preferredLanguage":"`...)
		if flawed(flawLanguage, invalid) {
			b = append(b, "en-GB-oxendict"...) // more than 10 characters
		} else {
			b = append(b, lang...)
		}
		b = append(b, `","gender":"`...)
		b = append(b, first.gender...)
		b = append(b, `"}`...)
	}

	b = append(b, `,"email":{"email":"`...)
	b = append(b, first.ascii...)
	b = append(b, '.')
	b = append(b, last.ascii...)
	b = append(b, '.')
	b = appendPadded(b, j, 6)
	if flawed(flawEmail, invalid) {
		b = append(b, '.') // no "@"
	} else {
		b = append(b, '@')
	}
	b = append(b, "org-"...)
	b = appendPadded(b, org, 4)
	b = append(b, `.example.com","isEmailVerified":`...)
	switch {
	case flawed(flawEmail, badTyped):
		b = append(b, `"yes"`...)
	case r.IntN(10) > 0:
		b = append(b, "true"...)
	default:
		b = append(b, "false"...)
	}
	b = append(b, '}')

	if phone {
		b = append(b, `,"phone":{"phone":"`...)
		if flawed(flawPhone, invalid) {
			b = append(b, "call me"...)
		} else {
			b = append(b, phonePrefixes[r.IntN(len(phonePrefixes))]...)
			n := r.IntN(10_000_000)
			b = appendPadded(b, n/10_000, 3)
			b = append(b, ' ')
			b = appendPadded(b, n/100%100, 2)
			b = append(b, ' ')
			b = appendPadded(b, n%100, 2)
		}
		b = append(b, `","isPhoneVerified":`...)
		b = strconv.AppendBool(b, r.IntN(2) == 0)
		b = append(b, '}')
	}

	if g.o.Plain {
		b = append(b, `,"password":"`...)
		b = appendPassword(b, r)
		b = append(b, '"')
	} else {
		b = append(b, `,"hashedPassword":{"value":"`...)
		b = append(b, hashes[j%len(hashes)]...)
		b = append(b, `"}`...)
	}
	b = append(b, `,"passwordChangeRequired":`...)
	if flawed(flawPhone, badTyped) {
		b = append(b, `"no"`...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `},"state":`...)
	if flawed(flawLanguage, badTyped) {
		b = append(b, "true"...)
	} else {
		b = append(b, `"USER_STATE_ACTIVE"`...)
	}
	g.buf = append(b, '}')
}

// appendPassword appends a random password of 12 characters that meets
// ZITADEL's default complexity policy; none of them needs JSON escaping.
func appendPassword(b []byte, r *rand.Rand) []byte {
	const (
		upper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower   = "abcdefghijkmnopqrstuvwxyz"
		digits  = "23456789"
		symbols = "!#$%&*+-=?@_"
	)
	b = append(b, upper[r.IntN(len(upper))])
	for range 6 {
		b = append(b, lower[r.IntN(len(lower))])
	}
	b = append(b, symbols[r.IntN(len(symbols))])
	for range 4 {
		b = append(b, digits[r.IntN(len(digits))])
	}
	return b
}

// project appends the org's project and its role "user".
func (g *generator) project(org int) {
	b := append(g.buf, ",\"projects\":[\n{\"projectId\":"...)
	b = g.appendID(b, "proj-", org, -1)
	b = append(b, `,"project":{"name":"Project `...)
	b = appendPadded(b, org, 4)
	b = append(b, `","projectRoleAssertion":true,"projectRoleCheck":true,"hasProjectCheck":false,"privateLabelingSetting":"PRIVATE_LABELING_SETTING_UNSPECIFIED"}}`...)
	b = append(b, "\n],\"projectRoles\":[\n{\"projectId\":"...)
	b = g.appendID(b, "proj-", org, -1)
	b = append(b, `,"roleKey":"user","displayName":"User","group":"default"}`+"\n]"...)
	g.buf = b
}

func (g *generator) userGrants(org int) {
	a := array{name: "userGrants"}
	g.users(org, func(j int, c class, _ int64) {
		if c != valid {
			return
		}
		g.next(&a)
		b := append(g.buf, `{"userId":`...)
		b = g.appendID(b, "user-", org, j)
		b = append(b, `,"projectId":`...)
		b = g.appendID(b, "proj-", org, -1)
		g.buf = append(b, `,"roleKeys":["user"]}`...)
		g.emit()
	})
	g.end(&a)
}

func (g *generator) orgMembers(org int) {
	a := array{name: "orgMembers"}
	g.users(org, func(j int, c class, v int64) {
		if c != valid || !picked(v, g.plan.members, membersPhase) {
			return
		}
		g.next(&a)
		g.reseed(streamMember, v)
		b := append(g.buf, `{"userId":`...)
		b = g.appendID(b, "user-", org, j)
		b = append(b, `,"roles":["`...)
		b = append(b, orgRoles[g.rnd.IntN(len(orgRoles))]...)
		g.buf = append(b, `"]}`...)
		g.emit()
	})
	g.end(&a)
}

func (g *generator) userMetadata(org int) {
	a := array{name: "userMetadata"}
	g.users(org, func(j int, c class, v int64) {
		if c != valid || !picked(v, g.plan.metadata, 0) {
			return
		}
		g.next(&a)
		g.reseed(streamMetadata, v)
		t := g.tmp[:0]
		var key string
		switch g.rnd.IntN(4) {
		case 0:
			key, t = "department", append(t, departments[g.rnd.IntN(len(departments))]...)
		case 1:
			key, t = "location", append(t, locations[g.rnd.IntN(len(locations))]...)
		case 2:
			key, t = "costCenter", append(t, "CC-"...)
			t = appendPadded(t, 1000+g.rnd.IntN(9000), 4)
		default:
			key, t = "employeeId", append(t, 'E')
			t = appendPadded(t, int(v), 6)
		}
		g.tmp = t
		b := append(g.buf, `{"id":`...)
		b = g.appendID(b, "user-", org, j)
		b = append(b, `,"key":"`...)
		b = append(b, key...)
		b = append(b, `","value":"`...)
		b = base64.StdEncoding.AppendEncode(b, t)
		g.buf = append(b, `"}`...)
		g.emit()
	})
	g.end(&a)
}

// appendID appends the JSON string "<OrgPrefix><kind>0007", or with user
// >= 0 "<OrgPrefix><kind>0007-000123".
func (g *generator) appendID(b []byte, kind string, org, user int) []byte {
	b = append(b, '"')
	b = append(b, g.prefix...)
	b = append(b, kind...)
	b = appendPadded(b, org, 4)
	if user >= 0 {
		b = append(b, '-')
		b = appendPadded(b, user, 6)
	}
	return append(b, '"')
}

// appendPadded appends n in decimal with leading zeros to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendEscaped appends s JSON-escaped, without the quotes. s must be valid
// UTF-8.
func appendEscaped(b []byte, s string) []byte {
	n := len(b)
	b, _ = jsontext.AppendQuote(b, s)
	copy(b[n:], b[n+1:len(b)-1])
	return b[:len(b)-2]
}
