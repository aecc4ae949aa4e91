package importdata

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func lifetime(d time.Duration) *Lifetime {
	l := Lifetime(d)
	return &l
}

// errComparer compares errors by message: decode errors are not comparable
// by value.
var errComparer = cmp.Comparer(func(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
})

func TestDataOrgV1_ToV2(t *testing.T) {
	badUser := errors.New("user: expected an object, got string")
	badTrigger := errors.New("flowType: unknown value")
	defaultLifetimes := AddCustomLoginPolicyRequest{
		PasswordCheckLifetime:      lifetime(240 * time.Hour),
		ExternalLoginCheckLifetime: lifetime(240 * time.Hour),
		MFAInitSkipLifetime:        lifetime(720 * time.Hour),
		SecondFactorCheckLifetime:  lifetime(18 * time.Hour),
		MultiFactorCheckLifetime:   lifetime(12 * time.Hour),
	}
	withLists := func(p AddCustomLoginPolicyRequest, second []SecondFactorType, multi []MultiFactorType, idps []LoginPolicyIDP) *AddCustomLoginPolicyRequest {
		p.SecondFactors, p.MultiFactors, p.IDPs = second, multi, idps
		return &p
	}
	ownPolicy := &AddCustomLoginPolicyRequest{
		AllowRegister:            true,
		PasswordCheckLifetime:    lifetime(time.Hour),
		MultiFactorCheckLifetime: lifetime(time.Minute),
		SecondFactors:            []SecondFactorType{1},
		MultiFactors:             []MultiFactorType{1},
		IDPs:                     []LoginPolicyIDP{{IDPID: "own", OwnerType: IDPOwnerOrg}},
	}
	tests := []struct {
		name string
		in   DataOrgV1
		want DataOrg
	}{
		{
			name: "same members copied, element errors kept",
			in: DataOrgV1{DataOrg: DataOrg{
				OrgID:              "o1",
				Org:                &AddOrgRequest{Name: "Org"},
				HumanUsers:         Items[DataHumanUser]{{V: DataHumanUser{UserID: "u1", State: UserStateInactive}}, {Err: badUser}},
				Projects:           Items[DataProject]{{V: DataProject{ProjectID: "p1"}}},
				Domains:            Items[Domain]{{V: Domain{DomainName: "a.example", IsVerified: true}}},
				LabelPolicy:        Policy[AddCustomLabelPolicyRequest]{V: &AddCustomLabelPolicyRequest{PrimaryColor: "#fff"}},
				PrivacyPolicy:      Policy[AddCustomPrivacyPolicyRequest]{Err: errors.New("tosLink: expected a string, got number")},
				InviteUserMessages: Items[SetCustomMessageTextRequest]{{V: SetCustomMessageTextRequest{Language: "de"}}},
			}},
			want: DataOrg{
				OrgID:              "o1",
				Org:                &AddOrgRequest{Name: "Org"},
				HumanUsers:         Items[DataHumanUser]{{V: DataHumanUser{UserID: "u1", State: UserStateInactive}}, {Err: badUser}},
				Projects:           Items[DataProject]{{V: DataProject{ProjectID: "p1"}}},
				Domains:            Items[Domain]{{V: Domain{DomainName: "a.example", IsVerified: true}}},
				LabelPolicy:        Policy[AddCustomLabelPolicyRequest]{V: &AddCustomLabelPolicyRequest{PrimaryColor: "#fff"}},
				PrivacyPolicy:      Policy[AddCustomPrivacyPolicyRequest]{Err: errors.New("tosLink: expected a string, got number")},
				InviteUserMessages: Items[SetCustomMessageTextRequest]{{V: SetCustomMessageTextRequest{Language: "de"}}},
			},
		},
		{
			name: "trigger actions enums become ids",
			in: DataOrgV1{TriggerActions: Items[SetTriggerActionsRequestV1]{
				{V: SetTriggerActionsRequestV1{FlowType: 1, TriggerType: 1, ActionIDs: []string{"a"}}},
				{V: SetTriggerActionsRequestV1{FlowType: 1, TriggerType: 3}},
				{V: SetTriggerActionsRequestV1{}},
				{Err: badTrigger},
			}},
			want: DataOrg{TriggerActions: Items[SetTriggerActionsRequest]{
				{V: SetTriggerActionsRequest{FlowType: "1", TriggerType: "1", ActionIDs: []string{"a"}}},
				{V: SetTriggerActionsRequest{FlowType: "1", TriggerType: "3"}},
				{V: SetTriggerActionsRequest{FlowType: "0", TriggerType: "0"}},
				{Err: badTrigger},
			}},
		},
		{
			name: "iamPolicy becomes the domain policy with instance defaults",
			in:   DataOrgV1{IAMPolicy: Policy[AddCustomOrgIAMPolicyRequest]{V: &AddCustomOrgIAMPolicyRequest{OrgID: "o1", UserLoginMustBeDomain: true}}},
			want: DataOrg{DomainPolicy: Policy[AddCustomDomainPolicyRequest]{V: &AddCustomDomainPolicyRequest{
				OrgID: "o1", UserLoginMustBeDomain: true,
				ValidateOrgDomains:                     DefaultValidateOrgDomains,
				SMTPSenderAddressMatchesInstanceDomain: DefaultSMTPSenderAddressMatchesInstanceDomain,
			}}},
		},
		{
			name: "bad iamPolicy keeps its error",
			in:   DataOrgV1{IAMPolicy: Policy[AddCustomOrgIAMPolicyRequest]{Err: errors.New("expected an object, got string")}},
			want: DataOrg{DomainPolicy: Policy[AddCustomDomainPolicyRequest]{Err: errors.New("expected an object, got string")}},
		},
		{
			name: "login policy gets the default lifetimes and keeps its lists",
			in:   DataOrgV1{DataOrg: DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{V: ownPolicy}}},
			want: DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{V: func() *AddCustomLoginPolicyRequest {
				p := withLists(defaultLifetimes, ownPolicy.SecondFactors, ownPolicy.MultiFactors, ownPolicy.IDPs)
				p.AllowRegister = true
				return p
			}()}},
		},
		{
			name: "v1 lists replace the login policy's",
			in: DataOrgV1{
				DataOrg:       DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{V: ownPolicy}},
				SecondFactors: Items[SecondFactorV1]{{V: SecondFactorV1{Type: 2}}, {V: SecondFactorV1{Type: 3}}},
				MultiFactors:  Items[MultiFactorV1]{{V: MultiFactorV1{Type: 1}}},
				IDPs:          Items[LoginPolicyIDP]{{V: LoginPolicyIDP{IDPID: "i1", OwnerType: IDPOwnerSystem}}},
			},
			want: DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{V: func() *AddCustomLoginPolicyRequest {
				p := withLists(defaultLifetimes, []SecondFactorType{2, 3}, []MultiFactorType{1},
					[]LoginPolicyIDP{{IDPID: "i1", OwnerType: IDPOwnerSystem}})
				p.AllowRegister = true
				return p
			}()}},
		},
		{
			name: "v1 lists without a login policy are ignored",
			in: DataOrgV1{
				SecondFactors: Items[SecondFactorV1]{{V: SecondFactorV1{Type: 2}}},
				IDPs:          Items[LoginPolicyIDP]{{V: LoginPolicyIDP{IDPID: "i1"}}},
			},
			want: DataOrg{},
		},
		{
			name: "bad v1 list element fails the login policy",
			in: DataOrgV1{
				DataOrg:      DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{V: &AddCustomLoginPolicyRequest{}}},
				MultiFactors: Items[MultiFactorV1]{{V: MultiFactorV1{Type: 1}}, {Err: errors.New("type: unknown value")}},
			},
			want: DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{Err: errors.New("multiFactors[1]: type: unknown value")}},
		},
		{
			name: "bad login policy keeps its error",
			in: DataOrgV1{
				DataOrg:       DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{Err: errors.New("expected an object, got number")}},
				SecondFactors: Items[SecondFactorV1]{{V: SecondFactorV1{Type: 1}}},
			},
			want: DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{Err: errors.New("expected an object, got number")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.ToV2()
			if diff := cmp.Diff(&tt.want, got, errComparer); diff != "" {
				t.Errorf("ToV2 (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDataOrgV1_ToV2DoesNotChangeInput(t *testing.T) {
	own := lifetime(time.Hour)
	in := DataOrgV1{DataOrg: DataOrg{LoginPolicy: Policy[AddCustomLoginPolicyRequest]{V: &AddCustomLoginPolicyRequest{PasswordCheckLifetime: own}}}}
	in.ToV2()
	if in.LoginPolicy.V.PasswordCheckLifetime != own || *own != Lifetime(time.Hour) {
		t.Errorf("ToV2 changed the v1 login policy: %v", in.LoginPolicy.V.PasswordCheckLifetime)
	}
}

func TestDecodeOrgV1(t *testing.T) {
	raw := `{"orgId":"o1","iam_policy":{"orgId":"o1","userLoginMustBeDomain":true},
		"domainPolicy":{"validateOrgDomains":true},"orgState":"ORG_STATE_INACTIVE","org_state":1,
		"loginPolicy":{"passwordCheckLifetime":"1s","secondFactors":["SECOND_FACTOR_TYPE_OTP"]},
		"secondFactors":[{"type":"SECOND_FACTOR_TYPE_U2F"},{"type":3}],"multiFactors":[{"type":1}],
		"idps":[{"idpId":"i1","ownerType":"IDP_OWNER_TYPE_ORG"}],
		"triggerActions":[{"flowType":"FLOW_TYPE_EXTERNAL_AUTHENTICATION","triggerType":"TRIGGER_TYPE_PRE_CREATION","actionIds":["a1"]},
			{"flowType":1,"triggerType":"3"},{"flowType":"FLOW_TYPE_COMPLEMENT_TOKEN"}],
		"humanUsers":[{"userId":"u1"}]}`

	got, err := DecodeOrgV1([]byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.OrgState != OrgStateUnspecified {
		t.Errorf("orgState = %v, want ignored in v1", got.OrgState)
	}
	if p := got.DomainPolicy.V; p == nil || !p.UserLoginMustBeDomain || p.ValidateOrgDomains {
		t.Errorf("domainPolicy = %+v, want from iamPolicy only", p)
	}
	lp := got.LoginPolicy.V
	if lp == nil {
		t.Fatalf("loginPolicy missing: %v", got.LoginPolicy.Err)
	}
	if diff := cmp.Diff([]SecondFactorType{2, 3}, lp.SecondFactors); diff != "" {
		t.Errorf("secondFactors (-want +got):\n%s", diff)
	}
	if *lp.PasswordCheckLifetime != Lifetime(DefaultPasswordCheckLifetime) {
		t.Errorf("passwordCheckLifetime = %v", time.Duration(*lp.PasswordCheckLifetime))
	}
	wantTriggers := []SetTriggerActionsRequest{{FlowType: "1", TriggerType: "2", ActionIDs: []string{"a1"}}, {FlowType: "1", TriggerType: "3"}}
	if len(got.TriggerActions) != 3 || got.TriggerActions[2].Err == nil {
		t.Fatalf("triggerActions = %+v, want 3 with the last one failed", got.TriggerActions)
	}
	if diff := cmp.Diff(wantTriggers, []SetTriggerActionsRequest{got.TriggerActions[0].V, got.TriggerActions[1].V}); diff != "" {
		t.Errorf("triggerActions (-want +got):\n%s", diff)
	}

	filtered, err := DecodeOrgV1([]byte(raw), map[string]bool{"orgId": true, "domainPolicy": true})
	if err != nil {
		t.Fatal(err)
	}
	if filtered.OrgID != "o1" || filtered.DomainPolicy.V == nil || filtered.LoginPolicy.Present() || filtered.HumanUsers != nil {
		t.Errorf("DecodeOrgV1 filtered = %+v", filtered)
	}
}

func TestDecodeOrgV1_BadFactorFailsLoginPolicy(t *testing.T) {
	got, err := DecodeOrgV1([]byte(`{"loginPolicy":{},"secondFactors":[{"type":1},{"type":"NOPE"}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.LoginPolicy.Err == nil || !strings.HasPrefix(got.LoginPolicy.Err.Error(), "secondFactors[1].type: unknown value") {
		t.Errorf("loginPolicy error = %v", got.LoginPolicy.Err)
	}
}

func TestDecodeChunkV1(t *testing.T) {
	got, err := DecodeChunkV1([]byte(`, {"flowType":1,"triggerType":1}, {"flowType":"FLOW_TYPE_EXTERNAL_AUTHENTICATION","triggerType":"TRIGGER_TYPE_POST_CREATION"}`), "trigger_actions")
	if err != nil {
		t.Fatal(err)
	}
	want := Items[SetTriggerActionsRequest]{{V: SetTriggerActionsRequest{FlowType: "1", TriggerType: "1"}}, {V: SetTriggerActionsRequest{FlowType: "1", TriggerType: "3"}}}
	if diff := cmp.Diff(want, got.TriggerActions, errComparer); diff != "" {
		t.Errorf("DecodeChunkV1 (-want +got):\n%s", diff)
	}
	if _, err := DecodeChunkV1([]byte(`{}`), "domainPolicy"); err == nil {
		t.Error("DecodeChunkV1 of a non-v1 member: no error")
	}
}

func TestV1Sources(t *testing.T) {
	tests := []struct {
		v2   string
		want []string
	}{
		{"domainPolicy", []string{"iamPolicy"}},
		{"loginPolicy", []string{"loginPolicy", "secondFactors", "multiFactors", "idps"}},
		{"humanUsers", []string{"humanUsers"}},
		{"triggerActions", []string{"triggerActions"}},
		{"orgId", []string{"orgId"}},
		{"inviteUserMessages", []string{"inviteUserMessages"}},
		{"orgState", nil},
		{"verifySmsOtpMessages", nil},
		{"verifyEmailOtpMessages", nil},
		{"iamPolicy", nil},
		{"secondFactors", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, V1Sources(tt.v2)); diff != "" {
			t.Errorf("V1Sources(%q) (-want +got):\n%s", tt.v2, diff)
		}
	}
}

func TestScanOrgs_V1(t *testing.T) {
	payload := `{"orgs":[{"orgId":"a","iamPolicy":{"orgId":"a"},"second_factors":[{"type":1},{"type":2}],
		"triggerActions":[{"flowType":"FLOW_TYPE_EXTERNAL_AUTHENTICATION","triggerType":2}],"domainPolicy":{"x":1}}]}`
	var got []OrgLayout
	err := ScanOrgs(strings.NewReader(payload), ScanOptions{Strict: true, V1: true}, func(o OrgLayout) error {
		got = append(got, o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("orgs = %+v", got)
	}
	for _, m := range []string{"iamPolicy", "secondFactors", "second_factors", "triggerActions", "domainPolicy"} {
		if _, ok := got[0].Members[MemberKey(m)]; !ok {
			t.Errorf("member %s missing from %v", m, got[0].Members)
		}
	}
	if a := got[0].Arrays["secondFactors"]; a == nil || a.Count != 2 {
		t.Errorf("secondFactors layout = %+v", a)
	}

	bad := []struct{ name, payload, want string }{
		{"v1 trigger type", `{"orgs":[{"triggerActions":[{"flowType":"1","triggerType":"TRIGGER_TYPE_PRE_USERINFO_CREATION"}]}]}`, "orgs[0].triggerActions[0].triggerType: unknown value"},
		{"iamPolicy type", `{"orgs":[{"iamPolicy":{"userLoginMustBeDomain":"yes"}}]}`, "orgs[0].iamPolicy.userLoginMustBeDomain: "},
		{"second factor", `{"orgs":[{"secondFactors":[{"type":"NOPE"}]}]}`, "orgs[0].secondFactors[0].type: unknown value"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := ScanOrgs(strings.NewReader(tt.payload), ScanOptions{Strict: true, V1: true}, func(OrgLayout) error { return nil })
			var se *ShapeError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, tt.want) {
				t.Errorf("ScanOrgs v1 = %v, want a ShapeError with %q", err, tt.want)
			}
		})
	}

	// v2 mode does not know the v1 members: a v1 trigger type is a string of
	// the wrong type only in v1.
	v2ok := `{"orgs":[{"triggerActions":[{"flowType":"1","triggerType":"2"}],"iamPolicy":{"userLoginMustBeDomain":"yes"}}]}`
	if err := ScanOrgs(strings.NewReader(v2ok), ScanOptions{Strict: true}, func(OrgLayout) error { return nil }); err != nil {
		t.Errorf("ScanOrgs v2 = %v", err)
	}
}

func TestParseRequest_V1(t *testing.T) {
	req, err := ParseRequest([]byte(`{"dataOrgsv1":{"orgs":[{"orgId":"o","iamPolicy":{"orgId":"o"}}]}}`), 100)
	if err != nil {
		t.Fatal(err)
	}
	if req.Field != FieldDataOrgsV1 || len(req.Inline) == 0 {
		t.Errorf("request = %+v", req)
	}
	_, err = ParseRequest([]byte(`{"dataOrgsv1":{"orgs":[{"secondFactors":[{"type":true}]}]}}`), 100)
	var re *RequestError
	if !errors.As(err, &re) || !strings.HasPrefix(re.Msg, "dataOrgsv1: orgs[0].secondFactors[0].type: ") {
		t.Errorf("ParseRequest = %v, want a RequestError at dataOrgsv1: orgs[0].secondFactors[0].type", err)
	}
}
