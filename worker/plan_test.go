package worker

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/store"
)

func TestPlanUnits(t *testing.T) {
	steps := []store.Step{
		{Name: "org", Fields: []string{"orgId", "org"}, Stage: 1, Order: 1, Always: true},
		{Name: "domain_policy", Fields: []string{"domainPolicy"}, Stage: 1, Order: 2},
		{Name: "human_users", Fields: []string{"humanUsers"}, Stage: 1, Order: 13, Chunkable: true},
		{Name: "projects", Fields: []string{"projects"}, Stage: 1, Order: 18, Chunkable: true},
		{Name: "project_roles", Fields: []string{"projectRoles"}, Stage: 1, Order: 23, Chunkable: true},
		{Name: "texts", Fields: []string{"initMessages", "loginTexts"}, Stage: 1, Order: 30},
		{Name: "unsupported", Fields: []string{"actions", "labelPolicy"}, Stage: 1, Order: 99, Uncounted: true},
		{Name: "project_grants", Fields: []string{"projectGrants"}, Stage: 2, Order: 2, Chunkable: true},
		{Name: "user_grants", Fields: []string{"userGrants"}, Stage: 3, Order: 1, Chunkable: true},
	}
	org := importdata.OrgLayout{Index: 2, OrgID: "o", Start: 10, End: 900,
		Arrays: map[string]*importdata.ArrayLayout{
			"humanUsers":   {Count: 5, Chunks: []importdata.Chunk{{First: 0, Count: 3, Start: 20, End: 50}, {First: 3, Count: 2, Start: 50, End: 70}}},
			"projects":     {Count: 1},
			"userGrants":   {Count: 2},
			"initMessages": {Count: 3},
		},
		Members: map[string]importdata.Span{
			"orgid":        {Start: 11, End: 19},
			"humanusers":   {Start: 19, End: 71},
			"projects":     {Start: 71, End: 100},
			"usergrants":   {Start: 100, End: 200},
			"actions":      {Start: 200, End: 300},
			"initmessages": {Start: 300, End: 400},
		},
	}
	totals := map[string]int{}
	got := planUnits("j", org, steps, totals, false)
	whole := func(u store.Unit) store.Unit { u.JobID, u.OrgIndex, u.SrcStart, u.SrcEnd = "j", 2, 10, 900; return u }
	want := []store.Unit{
		whole(store.Unit{Stage: 1, Seq: 0, Steps: []string{"org"}, Spans: []store.Span{{Start: 11, End: 19}}}),
		{JobID: "j", Stage: 1, OrgIndex: 2, Seq: 1, Steps: []string{"human_users"}, Field: "humanUsers", FirstItem: 0, SrcStart: 20, SrcEnd: 50},
		{JobID: "j", Stage: 1, OrgIndex: 2, Seq: 2, Steps: []string{"human_users"}, Field: "humanUsers", FirstItem: 3, SrcStart: 50, SrcEnd: 70},
		whole(store.Unit{Stage: 1, Seq: 3, Steps: []string{"projects", "texts", "unsupported"},
			Spans: []store.Span{{Start: 11, End: 19}, {Start: 71, End: 100}, {Start: 200, End: 300}, {Start: 300, End: 400}}}),
		whole(store.Unit{Stage: 3, Seq: 0, Steps: []string{"user_grants"}, Spans: []store.Span{{Start: 11, End: 19}, {Start: 100, End: 200}}}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("planUnits (-want +got):\n%s", diff)
	}
	// No domain policy: no unit, no total. Texts count their elements.
	if diff := cmp.Diff(map[string]int{"org": 1, "human_users": 5, "projects": 1, "texts": 3, "user_grants": 2}, totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

func TestPlanUnits_OrgWithoutMembers(t *testing.T) {
	steps := []store.Step{
		{Name: "org", Fields: []string{"orgId", "org"}, Stage: 1, Order: 1, Always: true},
		{Name: "domain_policy", Fields: []string{"domainPolicy"}, Stage: 1, Order: 2},
	}
	org := importdata.OrgLayout{Start: 5, End: 7, Members: map[string]importdata.Span{}}
	totals := map[string]int{}
	got := planUnits("j", org, steps, totals, false)
	// The org step still runs (to report the missing org), on no bytes at all.
	want := []store.Unit{{JobID: "j", Stage: 1, Steps: []string{"org"}, SrcStart: 5, SrcEnd: 7, Spans: []store.Span{}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("planUnits (-want +got):\n%s", diff)
	}
	if totals["org"] != 1 || len(totals) != 1 {
		t.Errorf("totals = %v, want org 1", totals)
	}
}

func TestPlanUnits_V1(t *testing.T) {
	steps := []store.Step{
		{Name: "org", Fields: []string{"orgId", "org", "orgState"}, Stage: 1, Order: 1, Always: true},
		{Name: "domain_policy", Fields: []string{"domainPolicy"}, Stage: 1, Order: 2},
		{Name: "login_policy", Fields: []string{"loginPolicy"}, Stage: 1, Order: 8},
		{Name: "unsupported", Fields: []string{"iamPolicy"}, Stage: 1, Order: 99, Uncounted: true},
		{Name: "trigger_actions", Fields: []string{"triggerActions"}, Stage: 2, Order: 1, Chunkable: true},
	}
	// A v1 org: iamPolicy, loginPolicy with the v1 factor lists, and a
	// domainPolicy and orgState, which v1 does not have.
	org := importdata.OrgLayout{Index: 0, OrgID: "o", Start: 0, End: 900,
		Arrays: map[string]*importdata.ArrayLayout{
			"secondFactors":  {Count: 2},
			"idps":           {Count: 1},
			"triggerActions": {Count: 3, Chunks: []importdata.Chunk{{First: 0, Count: 2, Start: 600, End: 650}, {First: 2, Count: 1, Start: 650, End: 700}}},
		},
		Members: map[string]importdata.Span{
			"orgid":          {Start: 1, End: 10},
			"orgstate":       {Start: 10, End: 20},
			"domainpolicy":   {Start: 20, End: 50},
			"iampolicy":      {Start: 50, End: 100},
			"secondfactors":  {Start: 100, End: 200},
			"loginpolicy":    {Start: 200, End: 300},
			"idps":           {Start: 300, End: 400},
			"triggeractions": {Start: 590, End: 700},
		},
	}
	totals := map[string]int{}
	got := planUnits("j", org, steps, totals, true)
	want := []store.Unit{
		{JobID: "j", Stage: 1, Seq: 0, Steps: []string{"org", "domain_policy", "login_policy"}, SrcEnd: 900,
			Spans: []store.Span{{Start: 1, End: 10}, {Start: 50, End: 100}, {Start: 100, End: 200}, {Start: 200, End: 300}, {Start: 300, End: 400}}},
		{JobID: "j", Stage: 2, Seq: 0, Steps: []string{"trigger_actions"}, Field: "triggerActions", FirstItem: 0, SrcStart: 600, SrcEnd: 650},
		{JobID: "j", Stage: 2, Seq: 1, Steps: []string{"trigger_actions"}, Field: "triggerActions", FirstItem: 2, SrcStart: 650, SrcEnd: 700},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("planUnits v1 (-want +got):\n%s", diff)
	}
	// The login policy is one entity, whatever its v1 lists hold.
	if diff := cmp.Diff(map[string]int{"org": 1, "domain_policy": 1, "login_policy": 1, "trigger_actions": 3}, totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}

	// v1 lists without a login policy: no login policy unit.
	delete(org.Members, "loginpolicy")
	delete(org.Members, "iampolicy")
	totals = map[string]int{}
	got = planUnits("j", org, steps[:4], totals, true)
	if len(got) != 1 || len(got[0].Steps) != 1 || got[0].Steps[0] != "org" {
		t.Errorf("planUnits v1 without login policy = %+v", got)
	}
}
