package importdata

// ImportDataOrg is the v2 payload {"orgs": [...]}.
type ImportDataOrg struct {
	Orgs Items[DataOrg] `json:"orgs"`
}

// DataOrg is one organization of a v2 import with everything it owns.
// Fields are added here as kinds are supported; unknown members are ignored.
type DataOrg struct {
	OrgID          string                         `json:"orgId"`
	Org            *AddOrgRequest                 `json:"org"`
	OrgState       OrgState                       `json:"orgState"`
	Domains        Items[Domain]                  `json:"domains"`
	HumanUsers     Items[DataHumanUser]           `json:"humanUsers"`
	MachineUsers   Items[DataMachineUser]         `json:"machineUsers"`
	Projects       Items[DataProject]             `json:"projects"`
	ProjectRoles   Items[AddProjectRoleRequest]   `json:"projectRoles"`
	ProjectGrants  Items[DataProjectGrant]        `json:"projectGrants"`
	UserGrants     Items[AddUserGrantRequest]     `json:"userGrants"`
	OrgMembers     Items[AddOrgMemberRequest]     `json:"orgMembers"`
	ProjectMembers Items[AddProjectMemberRequest] `json:"projectMembers"`
	UserMetadata   Items[SetUserMetadataRequest]  `json:"userMetadata"`
	OIDCIDPs       Items[DataOIDCIDP]             `json:"oidcIdps"`
	JWTIDPs        Items[DataJWTIDP]              `json:"jwtIdps"`
	UserLinks      Items[IDPUserLink]             `json:"userLinks"`
	MachineKeys    Items[DataMachineKey]          `json:"machineKeys"`

	// Applications, app keys, actions and project grant members (model_apps.go).
	APIApps             Items[DataAPIApplication]           `json:"apiApps"`
	OIDCApps            Items[DataOIDCApplication]          `json:"oidcApps"`
	TriggerActions      Items[SetTriggerActionsRequest]     `json:"triggerActions"`
	Actions             Items[DataAction]                   `json:"actions"`
	ProjectGrantMembers Items[AddProjectGrantMemberRequest] `json:"projectGrantMembers"`
	AppKeys             Items[DataAppKey]                   `json:"appKeys"`

	// Policies and texts (model_policies.go), in ZITADEL's field order.
	DomainPolicy                     Policy[AddCustomDomainPolicyRequest]             `json:"domainPolicy"`
	LabelPolicy                      Policy[AddCustomLabelPolicyRequest]              `json:"labelPolicy"`
	LockoutPolicy                    Policy[AddCustomLockoutPolicyRequest]            `json:"lockoutPolicy"`
	LoginPolicy                      Policy[AddCustomLoginPolicyRequest]              `json:"loginPolicy"`
	PasswordComplexityPolicy         Policy[AddCustomPasswordComplexityPolicyRequest] `json:"passwordComplexityPolicy"`
	PrivacyPolicy                    Policy[AddCustomPrivacyPolicyRequest]            `json:"privacyPolicy"`
	LoginTexts                       Items[SetCustomLoginTextsRequest]                `json:"loginTexts"`
	InitMessages                     Items[SetCustomMessageTextRequest]               `json:"initMessages"`
	PasswordResetMessages            Items[SetCustomMessageTextRequest]               `json:"passwordResetMessages"`
	VerifyEmailMessages              Items[SetCustomMessageTextRequest]               `json:"verifyEmailMessages"`
	VerifyPhoneMessages              Items[SetCustomVerifyPhoneMessageTextRequest]    `json:"verifyPhoneMessages"`
	DomainClaimedMessages            Items[SetCustomMessageTextRequest]               `json:"domainClaimedMessages"`
	PasswordlessRegistrationMessages Items[SetCustomMessageTextRequest]               `json:"passwordlessRegistrationMessages"`
	VerifySMSOTPMessages             Items[SetCustomVerifySMSOTPMessageTextRequest]   `json:"verifySmsOtpMessages"`
	VerifyEmailOTPMessages           Items[SetCustomMessageTextRequest]               `json:"verifyEmailOtpMessages"`
	InviteUserMessages               Items[SetCustomMessageTextRequest]               `json:"inviteUserMessages"`
}

// AddOrgRequest is management.AddOrgRequest.
type AddOrgRequest struct {
	Name string `json:"name"`
}

// Domain is org.Domain; the import uses domainName, isVerified and isPrimary.
type Domain struct {
	DomainName string `json:"domainName"`
	IsVerified bool   `json:"isVerified"`
	IsPrimary  bool   `json:"isPrimary"`
}

// DataHumanUser is v1.DataHumanUser.
type DataHumanUser struct {
	UserID string                 `json:"userId"`
	User   ImportHumanUserRequest `json:"user"`
	State  UserState              `json:"state"`
}

// ImportHumanUserRequest is management.ImportHumanUserRequest.
type ImportHumanUserRequest struct {
	UserName                        string          `json:"userName"`
	Profile                         *Profile        `json:"profile"`
	Email                           *Email          `json:"email"`
	Phone                           *Phone          `json:"phone"`
	Password                        string          `json:"password"`
	HashedPassword                  *HashedPassword `json:"hashedPassword"`
	PasswordChangeRequired          bool            `json:"passwordChangeRequired"`
	RequestPasswordlessRegistration bool            `json:"requestPasswordlessRegistration"`
	OTPCode                         string          `json:"otpCode"`
	IDPs                            []HumanIDP      `json:"idps"`
}

// Profile is ImportHumanUserRequest.Profile.
type Profile struct {
	FirstName         string `json:"firstName"`
	LastName          string `json:"lastName"`
	NickName          string `json:"nickName"`
	DisplayName       string `json:"displayName"`
	PreferredLanguage string `json:"preferredLanguage"`
	Gender            Gender `json:"gender"`
}

// Email is ImportHumanUserRequest.Email.
type Email struct {
	Email           string `json:"email"`
	IsEmailVerified bool   `json:"isEmailVerified"`
}

// Phone is ImportHumanUserRequest.Phone.
type Phone struct {
	Phone           string `json:"phone"`
	IsPhoneVerified bool   `json:"isPhoneVerified"`
}

// HashedPassword is ImportHumanUserRequest.HashedPassword.
type HashedPassword struct {
	Value string `json:"value"`
}

// DataMachineUser is v1.DataMachineUser.
type DataMachineUser struct {
	UserID string                `json:"userId"`
	User   AddMachineUserRequest `json:"user"`
	State  UserState             `json:"state"`
}

// AddMachineUserRequest is management.AddMachineUserRequest.
type AddMachineUserRequest struct {
	UserName        string          `json:"userName"`
	Name            string          `json:"name"`
	Description     string          `json:"description"`
	AccessTokenType AccessTokenType `json:"accessTokenType"`
	UserID          string          `json:"userId"`
}

// DataProject is v1.DataProject.
type DataProject struct {
	ProjectID string            `json:"projectId"`
	Project   AddProjectRequest `json:"project"`
}

// AddProjectRequest is management.AddProjectRequest.
type AddProjectRequest struct {
	Name                   string                 `json:"name"`
	ProjectRoleAssertion   bool                   `json:"projectRoleAssertion"`
	ProjectRoleCheck       bool                   `json:"projectRoleCheck"`
	HasProjectCheck        bool                   `json:"hasProjectCheck"`
	PrivateLabelingSetting PrivateLabelingSetting `json:"privateLabelingSetting"`
}

// AddProjectRoleRequest is management.AddProjectRoleRequest.
type AddProjectRoleRequest struct {
	ProjectID   string `json:"projectId"`
	RoleKey     string `json:"roleKey"`
	DisplayName string `json:"displayName"`
	Group       string `json:"group"`
}

// DataProjectGrant is v1.DataProjectGrant.
type DataProjectGrant struct {
	GrantID      string                 `json:"grantId"`
	ProjectGrant AddProjectGrantRequest `json:"projectGrant"`
}

// AddProjectGrantRequest is management.AddProjectGrantRequest.
type AddProjectGrantRequest struct {
	ProjectID    string   `json:"projectId"`
	GrantedOrgID string   `json:"grantedOrgId"`
	RoleKeys     []string `json:"roleKeys"`
}

// AddUserGrantRequest is management.AddUserGrantRequest.
type AddUserGrantRequest struct {
	UserID         string   `json:"userId"`
	ProjectID      string   `json:"projectId"`
	ProjectGrantID string   `json:"projectGrantId"`
	RoleKeys       []string `json:"roleKeys"`
}

// AddOrgMemberRequest is management.AddOrgMemberRequest.
type AddOrgMemberRequest struct {
	UserID string   `json:"userId"`
	Roles  []string `json:"roles"`
}

// AddProjectMemberRequest is management.AddProjectMemberRequest.
type AddProjectMemberRequest struct {
	ProjectID string   `json:"projectId"`
	UserID    string   `json:"userId"`
	Roles     []string `json:"roles"`
}
