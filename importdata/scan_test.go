package importdata

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
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
		{"org id twice", `{"dataOrgs":{"orgs":[{"orgId":"a"},{"orgId":"b"},{"orgId":"a"}]}}`,
			`dataOrgs: orgs[2].orgId: "a" is the id of orgs[0] too; give each org once`},
		{"user id in two orgs", `{"dataOrgs":{"orgs":[{"orgId":"a","humanUsers":[{"userId":"u"},{"userId":"u"}]},` +
			`{"orgId":"b","machineUsers":[{"userId":"m"},{"userId":"u"}]}]}}`,
			`dataOrgs: orgs[1].machineUsers[1]: user id "u" is given in orgs[0] too; orgs are imported in parallel, so give each once`},
		{"app id in two orgs", `{"dataOrgs":{"orgs":[{"orgId":"a","oidcApps":[{"appId":"x"}]},{"orgId":"b","apiApps":[{"appId":"x"}]}]}}`,
			`dataOrgs: orgs[1].apiApps[0]: app id "x" is given in orgs[0] too`},
		{"org twice with its users", `{"dataOrgs":{"orgs":[{"orgId":"a","humanUsers":[{"userId":"u"}]},{"orgId":"a","humanUsers":[{"userId":"u"}]}]}}`,
			`dataOrgs: orgs[1].orgId: "a" is the id of orgs[0] too; give each org once`},
		{"v1 org id twice", `{"dataOrgsv1":{"orgs":[{"orgId":"a"},{"org_id":"a"}]}}`,
			`dataOrgsv1: orgs[1].orgId: "a" is the id of orgs[0] too; give each org once`},
		{"field wrong type", `{"dataOrgs":{"orgs":[{"orgId":"o","humanUsers":[{"userId":"u","user":{"userName":7}}]}]}}`, "orgs[0].humanUsers[0].user.userName"},
		{"unknown enum", `{"dataOrgs":{"orgs":[{"orgId":"o","orgState":"NOPE"}]}}`, "orgs[0].orgState"},
		{"bad onConflict", `{"dataOrgs":{},"onConflict":"MAYBE"}`, "onConflict: unknown value"},
		{"invalid utf8", "{\"dataOrgs\":{\"orgs\":[{\"orgId\":\"\xff\"}]}}", "invalid UTF-8"},
		{"nul in orgId", `{"dataOrgs":{"orgs":[{"orgId":"o\u0000"}]}}`, `dataOrgs: orgs[0].orgId: must not contain the NUL character (\u0000), at byte 30`},
		{"nul in org name", `{"dataOrgs":{"orgs":[{"orgId":"o","org":{"name":"\u0000A"}}]}}`, `dataOrgs: orgs[0].org.name: must not contain the NUL character (\u0000), at byte 48`},
		{"nul in user name", `{"dataOrgs":{"orgs":[{"orgId":"o","humanUsers":[{"userId":"u"},{"userId":"v","user":{"userName":"a\u0000"}}]}]}}`,
			`dataOrgs: orgs[0].humanUsers[1].user.userName: must not contain the NUL character (\u0000), at byte 96`},
		{"nul in role key", `{"dataOrgs":{"orgs":[{"orgId":"o","userGrants":[{"roleKeys":["r","\u0000"]}]}]}}`, `orgs[0].userGrants[0].roleKeys[1]: must not contain the NUL`},
		{"nul in member name", `{"dataOrgs":{"orgs":[{"orgId":"o","humanUsers":[{"user\u0000Id":"u"}]}]}}`, `orgs[0].humanUsers[0]: a member name must not contain the NUL`},
		{"nul in org member name", `{"dataOrgs":{"orgs":[{"org\u0000Id":"o"}]}}`, `dataOrgs: orgs[0]: a member name must not contain the NUL character (\u0000), at byte 22`},
		{"nul in unknown member", `{"dataOrgs":{"orgs":[{"orgId":"o","note":{"x":"\u0000"}}]}}`, `orgs[0].note.x: must not contain the NUL`},
		{"nul in payload member", `{"dataOrgs":{"x":"\u0000","orgs":[]}}`, `dataOrgs: x: must not contain the NUL`},
		{"org member twice", `{"dataOrgs":{"orgs":[{"orgId":"o","projectGrants":[],"project_grants":[]}]}}`,
			"dataOrgs: orgs[0]: projectGrants and project_grants are the same member; give it once"},
		{"orgId twice", `{"dataOrgs":{"orgs":[{"orgId":"o","OrgID":"p"}]}}`, "orgs[0]: orgId and OrgID are the same member"},
		{"orgs twice", `{"dataOrgs":{"orgs":[],"Orgs":[]}}`, "dataOrgs: orgs and Orgs are the same member; give it once"},
		{"user member twice", `{"dataOrgs":{"orgs":[{"orgId":"o","humanUsers":[{"userId":"u","user":{"userName":"a","user_name":"b"}}]}]}}`,
			"dataOrgs: orgs[0].humanUsers[0].user: userName and user_name are the same member; give it once"},
		{"org name twice", `{"dataOrgs":{"orgs":[{"orgId":"o","org":{"name":"a","Name":"b"}}]}}`, "orgs[0].org: name and Name are the same member"},
		{"data field twice", `{"dataOrgs":{"orgs":[]},"data_orgs":{"orgs":[]}}`, "dataOrgs and data_orgs are the same member; give it once"},
		{"two data spelled", `{"data_orgs":{"orgs":[]},"data_orgs_s3":{}}`, "only one data field may be set, got data_orgs and data_orgs_s3"},
		{"timeout twice", `{"dataOrgs":{},"timeout":"1m","Timeout":"2m"}`, "timeout and Timeout are the same member; give it once"},
		{"onConflict unknown number", `{"dataOrgs":{},"onConflict":7}`, "onConflict: unknown value 7 (want FAIL, SKIP or OVERWRITE, or their numbers 0, 1 or 2)"},
		{"onConflict boolean", `{"dataOrgs":{},"onConflict":true}`, "onConflict: expected a name or number, got boolean"},
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

func TestParseRequest_OnConflict(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`null`, OnConflictFail}, {`""`, OnConflictFail}, {`0`, OnConflictFail}, {`"FAIL"`, OnConflictFail},
		{`1`, OnConflictSkip}, {`"1"`, OnConflictSkip}, {`"skip"`, OnConflictSkip}, {`"ON_CONFLICT_SKIP"`, OnConflictSkip},
		{`2`, OnConflictOverwrite}, {`"OVERWRITE"`, OnConflictOverwrite},
	} {
		req, err := ParseRequest([]byte(`{"dataOrgs":{},"onConflict":`+tc.in+`}`), 10)
		if err != nil || req.OnConflict != tc.want {
			t.Errorf("onConflict %s: got %+v, %v; want %s", tc.in, req, err, tc.want)
		}
	}
}

func TestParseRequest_EscapedBackslashIsNotNUL(t *testing.T) {
	if _, err := ParseRequest([]byte(`{"dataOrgs":{"orgs":[{"orgId":"o\\u0000","org":{"name":"\\u0000"}}]}}`), 10); err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
}

func TestValidate_NUL(t *testing.T) {
	org := DataOrg{OrgID: "o\x00", Org: &AddOrgRequest{Name: "A\x00"}}
	want := []string{"orgs[0].orgId: " + nulMsg, "orgs[0].org.name: " + nulMsg}
	var ve *ValidationError
	if err := org.Validate("orgs[0]"); !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	if diff := cmp.Diff(want, ve.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	u := DataHumanUser{UserID: "u", User: ImportHumanUserRequest{UserName: "n", Profile: &Profile{FirstName: "F", LastName: "L"},
		Email: &Email{Email: "a\x00@example.com"}, HashedPassword: &HashedPassword{Value: "$2a$\x00"}}}
	err := u.Validate("humanUsers[0]")
	for _, f := range []string{"user.email.email", "user.hashedPassword.value"} {
		if err == nil || !strings.Contains(err.Error(), "humanUsers[0]."+f+": "+nulMsg) {
			t.Errorf("Validate = %v, want a NUL problem of %s", err, f)
		}
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

// TestScanOrgs_FileGuards: a file cannot make the scanner hold a huge value
// or run of whitespace, an entity list that is not a list and an org id
// with NUL are the file's errors, and an id with NUL defines nothing.
func TestScanOrgs_FileGuards(t *testing.T) {
	// 8 times the limit: the scanner must stop long before the end.
	huge := strings.Repeat(" ", 8*MaxPending)
	bigString := `"` + strings.Repeat("x", 8*MaxPending) + `"`
	for _, tc := range []struct {
		name, data, want string
	}{
		{"whitespace", `{` + huge + `"orgs":[]}`, "the value or whitespace at byte 1 is longer than 32 MiB"},
		{"string", `{"orgs":[{"orgId":"a","org":{"name":` + bigString + `}}]}`, "is longer than 32 MiB"},
		{"entity list not a list", `{"orgs":[{"orgId":"a","humanUsers":"nope"}]}`, "orgs[0].humanUsers: expected an array, got string"},
		{"entity list an object", `{"orgs":[{"orgId":"a","projects":{}}]}`, "orgs[0].projects: expected an array, got object"},
		{"org id with NUL", `{"orgs":[{"orgId":"a\u0000"}]}`, `orgs[0].orgId: must not contain the NUL character`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := ScanOrgs(strings.NewReader(tc.data), ScanOptions{Defines: true}, func(OrgLayout) error { return nil })
			runtime.ReadMemStats(&after)
			var se *ShapeError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, tc.want) {
				t.Fatalf("ScanOrgs = %v, want a ShapeError with %q", err, tc.want)
			}
			// The decoder's buffer doubles up to the limit: 1+2+…+64 MiB.
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 5*MaxPending {
				t.Errorf("the scan allocated %d MiB", grown>>20)
			}
		})
	}
	var defs []Definition
	err := ScanOrgs(strings.NewReader(`{"orgs":[{"orgId":"a","humanUsers":[{"userId":"u\u0000"},{"userId":"v"}]}]}`),
		ScanOptions{Defines: true, Define: func(d Definition) error { defs = append(defs, d); return nil }}, func(OrgLayout) error { return nil })
	if err != nil || len(defs) != 1 || defs[0].Key != "v" {
		t.Errorf("definitions %+v, %v; want only user v", defs, err)
	}
}
