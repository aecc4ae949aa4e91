package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/zimport/zimport/importdata"
)

// step reports the members of an org that zimport does not import yet: each
// element (each policy) is an entity error of its kind, so that the job ends
// completed_with_errors instead of dropping them silently, and the rest of
// the org is imported. The split cannot count their elements, so the step
// is Uncounted; it runs last in pass 1 when the org has one of them, and
// reads them from the unit's bytes. A kind that becomes supported leaves
// unsupportedMembers for a step of its own.
func init() {
	names := make([]string, len(unsupportedMembers))
	for i, m := range unsupportedMembers {
		names[i] = m.member
	}
	register(&Step{Name: "unsupported", Fields: names, Stage: StagePass1, Order: 99, Uncounted: true, apply: applyUnsupported})
}

// unsupportedMembers are the DataOrg members that zimport does not import,
// in ZITADEL's import order, with the error type of their kind and the id
// of an element (reference §2.6.4 and §2.7).
var unsupportedMembers = []struct {
	member, typ string
	// id returns the error id of an element e of org orgID.
	id func(orgID string, e importdata.Element) string
}{
	{"iamPolicy", "domain_policy", ofOrg()}, // v1's domain policy
}

// ofOrg makes an id of the org id and the element's members names, joined
// by "_".
func ofOrg(names ...string) func(string, importdata.Element) string {
	return func(orgID string, e importdata.Element) string {
		return strings.Join(append([]string{orgID}, values(e, names)...), "_")
	}
}

// joined makes an id of the element's members names, joined by "_".
func joined(names ...string) func(string, importdata.Element) string {
	return func(_ string, e importdata.Element) string { return strings.Join(values(e, names), "_") }
}

func values(e importdata.Element, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = e.Get(n)
	}
	return out
}

// notSupported is the message of what, a path, that zimport does not import.
func notSupported(what string) string { return what + " is not supported by zimport yet" }

// applyUnsupported records an error for each element of each unsupported
// member of the org: item is the member's place in unsupportedMembers, sub
// the element's index.
func applyUnsupported(_ context.Context, a *applier, step *Step, _ *importdata.DataOrg) error {
	found, err := importdata.Members(a.raw, step.Fields)
	if err != nil {
		// DecodeOrg read the same bytes: this cannot happen, and retrying
		// would not help.
		a.fail(step, len(step.Fields), "org", a.orgID, "the org's members cannot be read: "+safeText(err.Error()))
		return nil
	}
	for i, m := range unsupportedMembers {
		for j, e := range found[m.member] {
			path := fmt.Sprintf("orgs[%d].%s", a.unit.OrgIndex, m.member)
			if !strings.HasSuffix(m.member, "Policy") {
				path += fmt.Sprintf("[%d]", j)
			}
			a.failSub(step, i, j, m.typ, safeText(m.id(a.orgID, e)), notSupported(path))
		}
	}
	return nil
}
