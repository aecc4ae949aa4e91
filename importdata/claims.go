package importdata

import (
	"strings"
	"unicode/utf8"
)

// A claim is a value unique in the instance that an entity of an org takes
// (an org name, a verified domain, a user name) or reads (the domain of a
// user name that ends in "@<domain>": ZITADEL refuses the name when another
// org verified the domain). ZITADEL imports orgs one after the other, so
// when two orgs of a file claim the same value the earlier org wins; zimport
// imports orgs in parallel and orders only the units that share a claim.
// The split collects the claims of every org (ScanOptions.Claim).

// Kinds of claims.
const (
	ClaimOrgName  = "org_name"
	ClaimDomain   = "domain"
	ClaimUserName = "user_name"
	// ClaimUserID is the id a user element gives. Ids given in two orgs are
	// refused, but one may be the id zimport derives for a human user
	// without one (ClaimDerivedUserID); and with onConflict OVERWRITE, the
	// name the user has now may be given up (a rename): the split claims
	// it too.
	ClaimUserID = "user_id"
	// ClaimDerivedUserID is the user name of a human user without an id:
	// the split derives its id from it and the org's id.
	ClaimDerivedUserID = "derived_user_id"
)

// MaxClaimed is the length, in characters, of the longest value that an
// element can take: org names, domain names, user names and user ids have
// at most 200. An element with a longer one fails its checks and takes
// nothing, so it claims nothing (the database could not index the value).
const MaxClaimed = 200

// Claim is a value that an element of a payload claims.
type Claim struct {
	// Org is the index of the org; Field the member (canonical name) and
	// Item the index in its array (0 for the "org" member).
	Org   int
	Field string
	Item  int
	// Kind is one of the Claim* kinds; Key the value as the import gives it,
	// trimmed where the import trims it (names, not ids). The database
	// folds the case of names.
	Kind, Key string
	// Takes is false when the element only reads the value.
	Takes bool
}

// claimer is an element that claims values.
type claimer interface {
	claims(emit func(kind, key string, takes bool))
}

func (o AddOrgRequest) claims(emit func(string, string, bool)) {
	emit(ClaimOrgName, strings.TrimSpace(o.Name), true)
}
func (d Domain) claims(emit func(string, string, bool)) {
	emit(ClaimDomain, strings.TrimSpace(d.DomainName), true)
}
func (u DataHumanUser) claims(emit func(string, string, bool)) {
	userClaims(u.UserID, u.User.UserName, true, emit)
}
func (u DataMachineUser) claims(emit func(string, string, bool)) {
	userClaims(u.UserID, u.User.UserName, false, emit)
}

// userClaims emits what user id named name claims: it takes the name and,
// for a human user (human), reads the domain the name ends in; and it takes
// its id, the one given or, for a human user without one, the one derived
// from its name.
func userClaims(id, name string, human bool, emit func(string, string, bool)) {
	name = strings.TrimSpace(name)
	emit(ClaimUserName, name, true)
	if at := strings.LastIndex(name, "@"); human && at >= 0 {
		emit(ClaimDomain, name[at+1:], false)
	}
	if id == "" && human {
		emit(ClaimDerivedUserID, name, true)
		return
	}
	emit(ClaimUserID, id, true)
}

// claimDecoders decode, per member, the little of an element that says what
// it claims. They are lenient: an element that claims something it then
// fails to import only makes other units wait for it.
var claimDecoders = map[string]func(raw []byte) claimer{
	"org":     decodeClaimer[AddOrgRequest],
	"domains": decodeClaimer[Domain],
	"humanUsers": func(raw []byte) claimer {
		var u DataHumanUser
		if !decodeUser(raw, &u.UserID, &u.User.UserName) {
			return nil
		}
		return u
	},
	"machineUsers": func(raw []byte) claimer {
		var u DataMachineUser
		if !decodeUser(raw, &u.UserID, &u.User.UserName) {
			return nil
		}
		return u
	},
}

// decodeClaimer decodes raw as a T; nil when it does not decode.
func decodeClaimer[T claimer](raw []byte) claimer {
	var v T
	if Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// decodeUser decodes only the id and user name of a user element (cheaper
// than the whole user); it reports whether the element decodes.
func decodeUser(raw []byte, id, name *string) bool {
	var v struct {
		UserID string `json:"userId"`
		User   struct {
			UserName string `json:"userName"`
		} `json:"user"`
	}
	if Unmarshal(raw, &v) != nil {
		return false
	}
	*id, *name = v.UserID, v.User.UserName
	return true
}

// claims passes to opts.Claim what raw, the element field[item] of the
// org being scanned (or its member field when item is -1), claims. decoded
// is the element when the scan decoded it already, else nil.
func (s *scanner) claims(field string, item int, raw []byte, decoded any) error {
	decode := claimDecoders[field]
	if s.opts.Claim == nil || decode == nil || len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	c, ok := decoded.(claimer)
	if !ok {
		if c = decode(raw); c == nil {
			return nil
		}
	}
	var err error
	c.claims(func(kind, key string, takes bool) {
		if err == nil && key != "" && utf8.ValidString(key) && utf8.RuneCountInString(key) <= MaxClaimed &&
			!strings.ContainsRune(key, 0) {
			err = s.opts.Claim(Claim{Org: s.orgIndex, Field: field, Item: max(item, 0), Kind: kind, Key: key, Takes: takes})
		}
	})
	return err
}
