package importdata

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanOrgs_LayoutAndChunks(t *testing.T) {
	var users []string
	for i := range 5 {
		users = append(users, fmt.Sprintf(`{"userId":"u%d","user":{"userName":"n%d"}}`, i, i))
	}
	payload := `{"x":1, "orgs": [ {"org_id":"a","humanUsers":[` + strings.Join(users, ", ") + `],"org":{"name":"A"}},
	  {"orgId":"b","projects":[{"projectId":"p"}]} ]}`
	var got []OrgLayout
	err := ScanOrgs(strings.NewReader(payload), ScanOptions{ChunkSize: 2}, func(o OrgLayout) error {
		got = append(got, o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].OrgID != "a" || got[1].OrgID != "b" {
		t.Fatalf("orgs = %+v", got)
	}
	hu := got[0].Arrays["humanUsers"]
	if hu.Count != 5 || len(hu.Chunks) != 3 {
		t.Fatalf("humanUsers layout = %+v", hu)
	}
	var ids []string
	for _, c := range hu.Chunks {
		org, err := DecodeChunk([]byte(payload[c.Start:c.End]), "humanUsers")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range org.HumanUsers {
			ids = append(ids, u.V.UserID)
		}
	}
	if diff := cmp.Diff([]string{"u0", "u1", "u2", "u3", "u4"}, ids); diff != "" {
		t.Errorf("chunk user ids (-want +got):\n%s", diff)
	}
	if p := got[1].Arrays["projects"]; p.Count != 1 || p.Chunks != nil {
		t.Errorf("projects layout = %+v", p)
	}
	org, err := DecodeOrg([]byte(payload[got[0].Start:got[0].End]), map[string]bool{"orgId": true, "org": true})
	if err != nil {
		t.Fatal(err)
	}
	if org.OrgID != "a" || org.Org == nil || org.Org.Name != "A" || org.HumanUsers != nil {
		t.Errorf("DecodeOrg filtered = %+v", org)
	}
}

func TestItems_BadElementIsItsOwnError(t *testing.T) {
	org, err := DecodeOrg([]byte(`{"orgId":"o","humanUsers":[{"userId":"a"},{"userId":5},7]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(org.HumanUsers) != 3 || org.HumanUsers[0].Err != nil || org.HumanUsers[1].Err == nil || org.HumanUsers[2].Err == nil {
		t.Fatalf("items = %+v", org.HumanUsers)
	}
	if got := DescribeError("humanUsers[1]", org.HumanUsers[1].Err); !strings.Contains(got, "humanUsers[1].userId") {
		t.Errorf("DescribeError = %q, want the field path", got)
	}
}

func TestParseRequest_Errors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not json", `{"dataOrgs": {`, "body is not valid JSON"},
		{"garbage at byte", `{"timeout": "1m",, }`, "at byte 17"},
		{"array body", `[]`, "expected a JSON object, got array"},
		{"no data", `{"timeout":"1m"}`, "one of dataOrgs"},
		{"two data", `{"dataOrgs":{"orgs":[]},"dataOrgsv1":{"orgs":[]}}`, "only one data field may be set, got dataOrgs and dataOrgsv1"},
		{"data wrong type", `{"dataOrgs":[1]}`, "dataOrgs: expected an object, got array"},
		{"timeout wrong type", `{"dataOrgs":{},"timeout":5}`, "timeout: expected a string, got number"},
		{"orgs wrong type", `{"dataOrgs":{"orgs":{}}}`, "dataOrgs: orgs: expected an array, got object"},
		{"org wrong type", `{"dataOrgs":{"orgs":[1]}}`, "orgs[0]: expected an object, got number"},
		{"field wrong type", `{"dataOrgs":{"orgs":[{"orgId":"o","humanUsers":[{"userId":"u","user":{"userName":7}}]}]}}`, "orgs[0].humanUsers[0].user.userName"},
		{"unknown enum", `{"dataOrgs":{"orgs":[{"orgId":"o","orgState":"NOPE"}]}}`, "orgs[0].orgState"},
		{"bad onConflict", `{"dataOrgs":{},"onConflict":"MAYBE"}`, "onConflict: unknown value"},
		{"invalid utf8", "{\"dataOrgs\":{\"orgs\":[{\"orgId\":\"\xff\"}]}}", "invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(tt.body), 10)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseRequest err = %v, want it to contain %q", err, tt.want)
			}
			if _, ok := err.(*RequestError); !ok {
				t.Fatalf("err is %T, want *RequestError", err)
			}
		})
	}
}

func TestParseRequest_SnakeCaseAndOptions(t *testing.T) {
	req, err := ParseRequest([]byte(`{"data_orgs":{"orgs":[{"org_id":"o","human_users":[]}]},"timeout":"5m","on_conflict":"SKIP","dry_run":true,"unknown":{"x":1}}`), 10)
	if err != nil {
		t.Fatal(err)
	}
	if req.Field != FieldDataOrgs || req.Timeout != "5m" || req.OnConflict != OnConflictSkip || !req.DryRun || !bytes.Contains(req.Inline, []byte(`"org_id"`)) {
		t.Fatalf("req = %+v", req)
	}
}
