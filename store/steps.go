package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/zimport/zimport/importdata"
)

// Stages of an import. ZITADEL's pass 2 is split in two so that user grants,
// which may name a project grant of any org, run after every project grant.
const (
	StagePass1          = 1 // org, policies, users, projects, apps, roles: per org
	StagePass2          = 2 // trigger actions, project grants
	StagePass2UserGrant = 3 // user grants
	StagePass3          = 4 // members
)

// Pass returns ZITADEL's pass (1, 2 or 3) of a stage.
func Pass(stage int) int {
	switch stage {
	case StagePass1:
		return 1
	case StagePass2, StagePass2UserGrant:
		return 2
	}
	return 3
}

// Step is one kind of entity in ZITADEL's import order. Adding a kind is
// adding one file that registers its Step.
type Step struct {
	// Name is the kind's progress key, e.g. "human_users".
	Name string
	// Type is the error type of the step's entities in ZITADEL's catalogue,
	// e.g. "human_user".
	Type string
	// Fields are the DataOrg members (canonical JSON names) the step reads.
	Fields []string
	// Stage is the step's stage; Order its position within the stage.
	Stage, Order int
	// Success is the ImportDataSuccessOrg list that holds the step's
	// successes, e.g. "humanUserIds"; empty when it has none.
	Success string
	// SuccessKeys are the member names of an object entry of Success, taken
	// from a result's f1..f4; nil when entries are plain strings (the id).
	SuccessKeys []string
	// Chunkable marks a step over one entity array that may be split into
	// chunks of consecutive elements, applied by separate units.
	Chunkable bool
	// Uncounted marks a step whose entities the split cannot count: the
	// progress of its kind has no total. Other steps that are not Chunkable
	// count the elements of their array members, else one entity per org.
	Uncounted bool
	// Always marks a step that runs for every org, even one without its
	// members (the org step). Other steps run when one of their members is
	// in the org.
	Always bool
	// prepare, when set, does the slow work of apply that needs no lock,
	// such as hashing passwords, before the unit's transaction opens; it may
	// read through a.db (the pool then) but never write.
	prepare func(ctx context.Context, a *applier, s *Step, org *importdata.DataOrg) error
	// apply imports the step's entities of one org (or one chunk of them).
	apply func(ctx context.Context, a *applier, s *Step, org *importdata.DataOrg) error
}

// number orders results: stage and order in one integer.
func (s *Step) number() int { return s.Stage*100 + s.Order }

var registry = map[string]*Step{}

// register adds a step at package initialisation. Names and numbers are
// unique: results are keyed by the step's number.
func register(s *Step) *Step {
	for _, r := range registry {
		if r.Name == s.Name || r.number() == s.number() {
			panic(fmt.Sprintf("store: step %q registered with the name or number of %q", s.Name, r.Name))
		}
	}
	registry[s.Name] = s
	return s
}

// Steps returns every step in import order.
func Steps() []Step {
	out := make([]Step, 0, len(registry))
	for _, s := range registry {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number() < out[j].number() })
	return out
}

// decodeUnit decodes the members of raw, the unit's bytes of the payload,
// that its steps read. A unit of a v1 payload (v1 true) is decoded as v1 and
// converted to v2 (importdata.DataOrgV1.ToV2); its Field is a v1 member.
func decodeUnit(u Unit, raw []byte, v1 bool) (*importdata.DataOrg, error) {
	switch {
	case u.Field != "" && v1:
		return importdata.DecodeChunkV1(raw, u.Field)
	case u.Field != "":
		return importdata.DecodeChunk(raw, u.Field)
	case v1:
		return importdata.DecodeOrgV1(raw, fieldsOf(u.Steps))
	}
	return importdata.DecodeOrg(raw, fieldsOf(u.Steps))
}

// fieldsOf returns the DataOrg members that the named steps read, and orgId.
func fieldsOf(names []string) map[string]bool {
	want := map[string]bool{"orgId": true}
	for _, n := range names {
		if s := registry[n]; s != nil {
			for _, f := range s.Fields {
				want[f] = true
			}
		}
	}
	return want
}
