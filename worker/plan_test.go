package worker

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/store"
)

func TestPlanUnits(t *testing.T) {
	steps := []store.Step{
		{Name: "org", Fields: []string{"orgId", "org"}, Stage: 1, Order: 1},
		{Name: "human_users", Fields: []string{"humanUsers"}, Stage: 1, Order: 13, Chunkable: true},
		{Name: "projects", Fields: []string{"projects"}, Stage: 1, Order: 18, Chunkable: true},
		{Name: "project_roles", Fields: []string{"projectRoles"}, Stage: 1, Order: 23, Chunkable: true},
		{Name: "unsupported", Stage: 1, Order: 99, Uncounted: true},
		{Name: "project_grants", Fields: []string{"projectGrants"}, Stage: 2, Order: 2, Chunkable: true},
		{Name: "user_grants", Fields: []string{"userGrants"}, Stage: 3, Order: 1, Chunkable: true},
	}
	org := importdata.OrgLayout{Index: 2, OrgID: "o", Start: 10, End: 900, Arrays: map[string]*importdata.ArrayLayout{
		"humanUsers": {Count: 5, Chunks: []importdata.Chunk{{First: 0, Count: 3, Start: 20, End: 50}, {First: 3, Count: 2, Start: 50, End: 70}}},
		"projects":   {Count: 1},
		"userGrants": {Count: 2},
	}}
	totals := map[string]int{}
	got := planUnits("j", org, steps, totals)
	want := []store.Unit{
		{JobID: "j", Stage: 1, OrgIndex: 2, Seq: 0, Steps: []string{"org"}, SrcStart: 10, SrcEnd: 900},
		{JobID: "j", Stage: 1, OrgIndex: 2, Seq: 1, Steps: []string{"human_users"}, Field: "humanUsers", FirstItem: 0, SrcStart: 20, SrcEnd: 50},
		{JobID: "j", Stage: 1, OrgIndex: 2, Seq: 2, Steps: []string{"human_users"}, Field: "humanUsers", FirstItem: 3, SrcStart: 50, SrcEnd: 70},
		{JobID: "j", Stage: 1, OrgIndex: 2, Seq: 3, Steps: []string{"projects", "unsupported"}, SrcStart: 10, SrcEnd: 900},
		{JobID: "j", Stage: 3, OrgIndex: 2, Seq: 0, Steps: []string{"user_grants"}, SrcStart: 10, SrcEnd: 900},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("planUnits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"org": 1, "human_users": 5, "projects": 1, "user_grants": 2}, totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}
