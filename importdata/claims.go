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
)

// Claim is a value that an element of a payload claims.
type Claim struct {
	// Org is the index of the org; Field the member (canonical name) and
	// Item the index in its array (0 for the "org" member).
	Org   int
	Field string
	Item  int
	// Kind is one of the Claim* kinds; Key the value as the import gives it,
	// trimmed as the import trims it. The database folds its case.
	Kind, Key string
	// Takes is false when the element only reads the value.
	Takes bool
}

// claimFields are the members whose elements claim values, with a decoder
// of the little of an element that says what it claims. The decoders are
// lenient: an element that claims something it fails to import only makes
// other units wait for it.
var claimFields = map[string]func(raw []byte, emit func(kind, key string, takes bool)){
	"org": func(raw []byte, emit func(string, string, bool)) {
		var v struct {
			Name string `json:"name"`
		}
		if Unmarshal(raw, &v) == nil {
			emit(ClaimOrgName, v.Name, true)
		}
	},
	"domains": func(raw []byte, emit func(string, string, bool)) {
		var v struct {
			DomainName string `json:"domainName"`
		}
		if Unmarshal(raw, &v) == nil {
			emit(ClaimDomain, v.DomainName, true)
		}
	},
	"humanUsers":   userClaims(true),
	"machineUsers": userClaims(false),
}

// userClaims returns the decoder of a user element: it takes its user name
// and, for a human user (readsDomain), reads the domain the name ends in.
func userClaims(readsDomain bool) func([]byte, func(string, string, bool)) {
	return func(raw []byte, emit func(string, string, bool)) {
		var v struct {
			User struct {
				UserName string `json:"userName"`
			} `json:"user"`
		}
		if Unmarshal(raw, &v) != nil {
			return
		}
		name := strings.TrimSpace(v.User.UserName)
		emit(ClaimUserName, name, true)
		if at := strings.LastIndex(name, "@"); readsDomain && at >= 0 {
			emit(ClaimDomain, name[at+1:], false)
		}
	}
}

// claims passes to opts.Claim what raw, the element field[item] of the
// org being scanned (or its member field when item is -1), claims.
func (s *scanner) claims(field string, item int, raw []byte) error {
	decode := claimFields[field]
	if s.opts.Claim == nil || decode == nil || len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var err error
	decode(raw, func(kind, key string, takes bool) {
		key = strings.TrimSpace(key)
		if err == nil && key != "" && utf8.ValidString(key) && !strings.ContainsRune(key, 0) {
			err = s.opts.Claim(Claim{Org: s.orgIndex, Field: field, Item: max(item, 0), Kind: kind, Key: key, Takes: takes})
		}
	})
	return err
}
