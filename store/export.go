package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/seal"
)

// This file reads the imported directory back into the v2 DataOrg form:
// what an import wrote, as an import file would give it. Each org is read
// with one batch of queries (one per table), in a read-only snapshot.

// ExportOrgs reads the orgs orgIDs of instance instanceID, in that order,
// and calls visit with each one, one org at a time; nil orgIDs means every
// org of the instance, by id. Entities are in key order (ids, or their
// composite keys), except lists that the tables keep in order (login policy
// IdPs, trigger action ids, role keys). box opens the OIDC IdP client
// secrets and the OTP secrets; with a nil box they are left empty.
//
// What the import generated or derived is not part of DataOrg and is not
// exported: app client ids and secrets, passwordless codes (a user that has
// one has requestPasswordlessRegistration), machine keys made at instance
// creation. A plain password was stored as a bcrypt hash, exported as
// hashedPassword. An org the instance does not have is an error wrapping
// ErrNotFound; an error of visit ends the export and is returned as is.
func (s *Store) ExportOrgs(ctx context.Context, instanceID string, orgIDs []string, box *seal.Box,
	visit func(*importdata.DataOrg) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("export orgs: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only

	if orgIDs == nil {
		rows, err := tx.Query(ctx, `SELECT id FROM orgs WHERE instance_id = $1 ORDER BY id COLLATE "C"`, instanceID)
		if err != nil {
			return fmt.Errorf("export orgs: list orgs: %w", err)
		}
		if orgIDs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("export orgs: list orgs: %w", err)
		}
	}
	for _, id := range orgIDs {
		if err := ctx.Err(); err != nil {
			return err
		}
		org, err := exportOrg(ctx, tx, instanceID, id, box)
		if err != nil {
			return fmt.Errorf("export org %s: %w", id, err)
		}
		if err := visit(org); err != nil {
			return err
		}
	}
	return nil
}

// exportOrg reads one org with one batch of queries.
func exportOrg(ctx context.Context, tx pgx.Tx, instanceID, orgID string, box *seal.Box) (*importdata.DataOrg, error) {
	x := &exporter{org: &importdata.DataOrg{OrgID: orgID}, box: box}
	b := &pgx.Batch{}
	q := func(sql string, fn func(rows pgx.Rows) error) {
		b.Queue(sql, instanceID, orgID).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := fn(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	}
	found := false
	q(`SELECT name, state FROM orgs WHERE instance_id = $1 AND id = $2`, func(r pgx.Rows) error {
		found = true
		return x.orgRow(r)
	})
	q(`SELECT domain, is_verified, is_primary FROM org_domains WHERE instance_id = $1 AND org_id = $2 AND NOT generated
		ORDER BY domain COLLATE "C"`, x.domainRow)

	// Policies and texts.
	q(`SELECT user_login_must_be_domain, validate_org_domains, smtp_sender_address_matches_instance_domain
		FROM domain_policies WHERE instance_id = $1 AND org_id = $2`, x.domainPolicyRow)
	q(`SELECT primary_color, hide_login_name_suffix, warn_color, background_color, font_color, primary_color_dark,
			background_color_dark, warn_color_dark, font_color_dark, disable_watermark, theme_mode
		FROM label_policies WHERE instance_id = $1 AND org_id = $2`, x.labelPolicyRow)
	q(`SELECT max_password_attempts, max_otp_attempts FROM lockout_policies WHERE instance_id = $1 AND org_id = $2`,
		x.lockoutPolicyRow)
	q(`SELECT allow_username_password, allow_register, allow_external_idp, force_mfa, passwordless_type,
			hide_password_reset, ignore_unknown_usernames, default_redirect_uri, password_check_lifetime,
			external_login_check_lifetime, mfa_init_skip_lifetime, second_factor_check_lifetime,
			multi_factor_check_lifetime, second_factors, multi_factors, allow_domain_discovery,
			disable_login_with_email, disable_login_with_phone, force_mfa_local_only,
			ARRAY(SELECT i.idp_id FROM login_policy_idps i WHERE i.instance_id = p.instance_id AND i.org_id = p.org_id
				ORDER BY i.position),
			ARRAY(SELECT i.owner_type FROM login_policy_idps i WHERE i.instance_id = p.instance_id AND i.org_id = p.org_id
				ORDER BY i.position)
		FROM login_policies p WHERE instance_id = $1 AND org_id = $2`, x.loginPolicyRow)
	q(`SELECT min_length, has_uppercase, has_lowercase, has_number, has_symbol
		FROM password_complexity_policies WHERE instance_id = $1 AND org_id = $2`, x.complexityPolicyRow)
	q(`SELECT tos_link, privacy_link, help_link, support_email, docs_link, custom_link, custom_link_text
		FROM privacy_policies WHERE instance_id = $1 AND org_id = $2`, x.privacyPolicyRow)
	q(`SELECT texts::text FROM login_texts WHERE instance_id = $1 AND org_id = $2 ORDER BY language_tag COLLATE "C"`,
		x.loginTextsRow)
	q(`SELECT message_type, language, title, pre_header, subject, greeting, text, button_text, footer_text
		FROM message_texts WHERE instance_id = $1 AND org_id = $2 ORDER BY message_type, language_tag COLLATE "C"`,
		x.messageTextRow)

	// IdPs, users and what hangs off them.
	q(`SELECT id, kind, name, styling_type, auto_register, issuer, client_id, client_secret_sealed, scopes,
			display_name_mapping, username_mapping, jwt_endpoint, keys_endpoint, header_name
		FROM idps WHERE instance_id = $1 AND org_id = $2 ORDER BY id COLLATE "C"`, x.idpRow)
	q(`SELECT u.id, u.type, u.username, u.state, u.first_name, u.last_name, u.nick_name, u.display_name,
			u.preferred_language, u.gender, u.email, u.email_verified, u.phone, u.phone_verified, u.password_hash,
			u.password_change_required, u.name, u.description, u.access_token_type, o.secret_sealed,
			EXISTS (SELECT 1 FROM passwordless_codes c WHERE c.instance_id = u.instance_id AND c.user_id = u.id)
		FROM users u LEFT JOIN user_otp o ON o.instance_id = u.instance_id AND o.user_id = u.id
		WHERE u.instance_id = $1 AND u.org_id = $2 ORDER BY u.id COLLATE "C"`, x.userRow)
	q(`SELECT l.source, l.user_id, l.idp_id, l.external_user_id, l.display_name, l.idp_name, l.idp_type
		FROM user_links l JOIN users u ON u.instance_id = l.instance_id AND u.id = l.user_id
		WHERE l.instance_id = $1 AND u.org_id = $2
		ORDER BY l.user_id COLLATE "C", l.idp_id COLLATE "C", l.external_user_id COLLATE "C"`, x.userLinkRow)
	q(`SELECT m.user_id, m.key, m.value FROM user_metadata m JOIN users u ON u.instance_id = m.instance_id AND u.id = m.user_id
		WHERE m.instance_id = $1 AND u.org_id = $2 ORDER BY m.user_id COLLATE "C", m.key COLLATE "C"`, x.metadataRow)
	q(`SELECT k.id, k.user_id, k.key_type, k.expires_at, k.public_key_pem
		FROM machine_keys k JOIN users u ON u.instance_id = k.instance_id AND u.id = k.user_id
		WHERE k.instance_id = $1 AND u.org_id = $2 AND k.public_key_pem IS NOT NULL ORDER BY k.id COLLATE "C"`,
		x.machineKeyRow)

	// Projects, apps, actions and grants.
	q(`SELECT id, name, project_role_assertion, project_role_check, has_project_check, private_labeling_setting
		FROM projects WHERE instance_id = $1 AND org_id = $2 ORDER BY id COLLATE "C"`, x.projectRow)
	q(`SELECT r.project_id, r.role_key, r.display_name, r.role_group
		FROM project_roles r JOIN projects p ON p.instance_id = r.instance_id AND p.id = r.project_id
		WHERE r.instance_id = $1 AND p.org_id = $2 ORDER BY r.project_id COLLATE "C", r.role_key COLLATE "C"`, x.projectRoleRow)
	q(`SELECT id, kind, project_id, name, auth_method_type, redirect_uris, response_types, grant_types, app_type,
			post_logout_redirect_uris, version, dev_mode, access_token_type, access_token_role_assertion,
			id_token_role_assertion, id_token_userinfo_assertion, clock_skew, additional_origins,
			skip_native_app_success_page, back_channel_logout_uri, login_version, login_base_uri
		FROM apps WHERE instance_id = $1 AND org_id = $2 ORDER BY id COLLATE "C"`, x.appRow)
	q(`SELECT k.id, k.project_id, k.app_id, k.client_id, k.key_type, k.expires_at, k.public_key
		FROM app_keys k JOIN apps a ON a.instance_id = k.instance_id AND a.id = k.app_id
		WHERE k.instance_id = $1 AND a.org_id = $2 ORDER BY k.id COLLATE "C"`, x.appKeyRow)
	q(`SELECT id, name, script, timeout, allowed_to_fail FROM actions WHERE instance_id = $1 AND org_id = $2
		ORDER BY id COLLATE "C"`, x.actionRow)
	q(`SELECT flow_type, trigger_type, action_ids FROM trigger_actions WHERE instance_id = $1 AND org_id = $2
		ORDER BY flow_type, trigger_type`, x.triggerActionRow)
	q(`SELECT g.id, g.project_id, g.granted_org_id, g.role_keys
		FROM project_grants g JOIN projects p ON p.instance_id = g.instance_id AND p.id = g.project_id
		WHERE g.instance_id = $1 AND p.org_id = $2 ORDER BY g.id COLLATE "C"`, x.projectGrantRow)
	q(`SELECT user_id, project_id, project_grant_id, role_keys FROM user_grants WHERE instance_id = $1 AND org_id = $2
		ORDER BY user_id COLLATE "C", project_id COLLATE "C", project_grant_id COLLATE "C"`, x.userGrantRow)

	// Members.
	q(`SELECT user_id, roles FROM org_members WHERE instance_id = $1 AND org_id = $2 ORDER BY user_id COLLATE "C"`,
		x.orgMemberRow)
	q(`SELECT m.project_id, m.user_id, m.roles
		FROM project_members m JOIN projects p ON p.instance_id = m.instance_id AND p.id = m.project_id
		WHERE m.instance_id = $1 AND p.org_id = $2 ORDER BY m.project_id COLLATE "C", m.user_id COLLATE "C"`,
		x.projectMemberRow)
	q(`SELECT project_id, grant_id, user_id, roles FROM project_grant_members WHERE instance_id = $1 AND org_id = $2
		ORDER BY grant_id COLLATE "C", user_id COLLATE "C"`, x.grantMemberRow)

	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if !found {
		return nil, ErrNotFound
	}
	x.attachLinks()
	return x.org, nil
}

// exporter builds one DataOrg from the rows of its tables.
type exporter struct {
	org *importdata.DataOrg
	box *seal.Box
	// humans indexes org.HumanUsers by user id, for their IdP links.
	humans map[string]int
	// humanIDPs are the links made from humanUsers[].user.idps, by user id.
	humanIDPs map[string][]importdata.HumanIDP
}

// enum is an enum type of importdata that names its values with String.
type enum interface {
	~int32
	String() string
}

// enumValue returns the value of E that String names, as the import stored
// it.
func enumValue[E enum](name string) (E, error) {
	for v := E(0); v < 64; v++ {
		if v.String() == name && name != "" {
			return v, nil
		}
	}
	var zero E
	return zero, fmt.Errorf("unknown %T value %q", zero, name)
}

// enumValues returns the values of E that names name.
func enumValues[E enum](names []string) ([]E, error) {
	if names == nil {
		return nil, nil
	}
	out := make([]E, len(names))
	for i, n := range names {
		v, err := enumValue[E](n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// enumPtr sets *dst to the value that name names; a NULL name leaves it zero.
func enumPtr[E enum](dst *E, name *string) error {
	if name == nil {
		return nil
	}
	v, err := enumValue[E](*name)
	*dst = v
	return err
}

// duration parses a duration stored in protojson form ("1.500s").
func duration(s string) (importdata.Duration, error) {
	var d importdata.Duration
	if err := importdata.Unmarshal([]byte(strconv.Quote(s)), &d); err != nil {
		return 0, fmt.Errorf("stored duration %q: %w", s, err)
	}
	return d, nil
}

// lifetime is a stored interval as a Lifetime; nil when NULL.
func lifetime(iv pgtype.Interval) *importdata.Lifetime {
	if !iv.Valid {
		return nil
	}
	us := iv.Microseconds + int64(iv.Days)*int64(24*time.Hour/time.Microsecond) +
		int64(iv.Months)*30*int64(24*time.Hour/time.Microsecond)
	l := importdata.Lifetime(time.Duration(us) * time.Microsecond)
	return &l
}

// keyExpiration is a stored key expiration: zero for a key without one.
func keyExpiration(t time.Time) importdata.Timestamp {
	if t.Equal(noExpiration) {
		return importdata.Timestamp{}
	}
	return importdata.Timestamp{Time: t.UTC()}
}

// open unseals a secret; "" without a box.
func (x *exporter) open(sealed []byte, what string) (string, error) {
	if x.box == nil || sealed == nil {
		return "", nil
	}
	plain, err := x.box.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", what, err)
	}
	return string(plain), nil
}

// nullText is a nullable text column; "" when NULL.
func nullText(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// nullBool is a nullable boolean column; false when NULL.
func nullBool(p *bool) bool { return p != nil && *p }

// exportItem is an element of an entity array.
func exportItem[T any](v T) importdata.Item[T] { return importdata.Item[T]{V: v} }

func (x *exporter) orgRow(r pgx.Rows) error {
	var name, state string
	if err := r.Scan(&name, &state); err != nil {
		return fmt.Errorf("read org: %w", err)
	}
	x.org.Org = &importdata.AddOrgRequest{Name: name}
	var err error
	x.org.OrgState, err = enumValue[importdata.OrgState](state)
	return err
}

func (x *exporter) domainRow(r pgx.Rows) error {
	var d importdata.Domain
	if err := r.Scan(&d.DomainName, &d.IsVerified, &d.IsPrimary); err != nil {
		return fmt.Errorf("read domains: %w", err)
	}
	x.org.Domains = append(x.org.Domains, exportItem(d))
	return nil
}

func (x *exporter) domainPolicyRow(r pgx.Rows) error {
	p := &importdata.AddCustomDomainPolicyRequest{}
	if err := r.Scan(&p.UserLoginMustBeDomain, &p.ValidateOrgDomains, &p.SMTPSenderAddressMatchesInstanceDomain); err != nil {
		return fmt.Errorf("read domain policy: %w", err)
	}
	x.org.DomainPolicy.V = p
	return nil
}

func (x *exporter) labelPolicyRow(r pgx.Rows) error {
	p := &importdata.AddCustomLabelPolicyRequest{}
	var theme string
	if err := r.Scan(&p.PrimaryColor, &p.HideLoginNameSuffix, &p.WarnColor, &p.BackgroundColor, &p.FontColor,
		&p.PrimaryColorDark, &p.BackgroundColorDark, &p.WarnColorDark, &p.FontColorDark, &p.DisableWatermark, &theme); err != nil {
		return fmt.Errorf("read label policy: %w", err)
	}
	var err error
	p.ThemeMode, err = enumValue[importdata.ThemeMode](theme)
	x.org.LabelPolicy.V = p
	return err
}

func (x *exporter) lockoutPolicyRow(r pgx.Rows) error {
	var password, otp int64
	if err := r.Scan(&password, &otp); err != nil {
		return fmt.Errorf("read lockout policy: %w", err)
	}
	x.org.LockoutPolicy.V = &importdata.AddCustomLockoutPolicyRequest{
		MaxPasswordAttempts: importdata.Uint32(password), MaxOTPAttempts: importdata.Uint32(otp)}
	return nil
}

func (x *exporter) loginPolicyRow(r pgx.Rows) error {
	p := &importdata.AddCustomLoginPolicyRequest{}
	var passwordless string
	var lifetimes [5]pgtype.Interval
	var second, multi, idpIDs, owners []string
	if err := r.Scan(&p.AllowUsernamePassword, &p.AllowRegister, &p.AllowExternalIDP, &p.ForceMFA, &passwordless,
		&p.HidePasswordReset, &p.IgnoreUnknownUsernames, &p.DefaultRedirectURI,
		&lifetimes[0], &lifetimes[1], &lifetimes[2], &lifetimes[3], &lifetimes[4], &second, &multi,
		&p.AllowDomainDiscovery, &p.DisableLoginWithEmail, &p.DisableLoginWithPhone, &p.ForceMFALocalOnly,
		&idpIDs, &owners); err != nil {
		return fmt.Errorf("read login policy: %w", err)
	}
	p.PasswordCheckLifetime, p.ExternalLoginCheckLifetime, p.MFAInitSkipLifetime = lifetime(lifetimes[0]), lifetime(lifetimes[1]), lifetime(lifetimes[2])
	p.SecondFactorCheckLifetime, p.MultiFactorCheckLifetime = lifetime(lifetimes[3]), lifetime(lifetimes[4])
	var err error
	if p.PasswordlessType, err = enumValue[importdata.PasswordlessType](passwordless); err != nil {
		return err
	}
	// Empty lists are stored as '{}': exported as absent.
	if len(second) > 0 {
		if p.SecondFactors, err = enumValues[importdata.SecondFactorType](second); err != nil {
			return err
		}
	}
	if len(multi) > 0 {
		if p.MultiFactors, err = enumValues[importdata.MultiFactorType](multi); err != nil {
			return err
		}
	}
	for i, id := range idpIDs {
		owner, err := enumValue[importdata.IDPOwnerType](owners[i])
		if err != nil {
			return err
		}
		p.IDPs = append(p.IDPs, importdata.LoginPolicyIDP{IDPID: id, OwnerType: owner})
	}
	x.org.LoginPolicy.V = p
	return nil
}

func (x *exporter) complexityPolicyRow(r pgx.Rows) error {
	p := &importdata.AddCustomPasswordComplexityPolicyRequest{}
	var minLength int64
	if err := r.Scan(&minLength, &p.HasUppercase, &p.HasLowercase, &p.HasNumber, &p.HasSymbol); err != nil {
		return fmt.Errorf("read password complexity policy: %w", err)
	}
	p.MinLength = importdata.Uint64(minLength)
	x.org.PasswordComplexityPolicy.V = p
	return nil
}

func (x *exporter) privacyPolicyRow(r pgx.Rows) error {
	p := &importdata.AddCustomPrivacyPolicyRequest{}
	if err := r.Scan(&p.TOSLink, &p.PrivacyLink, &p.HelpLink, &p.SupportEmail, &p.DocsLink, &p.CustomLink, &p.CustomLinkText); err != nil {
		return fmt.Errorf("read privacy policy: %w", err)
	}
	x.org.PrivacyPolicy.V = p
	return nil
}

func (x *exporter) loginTextsRow(r pgx.Rows) error {
	var texts string
	if err := r.Scan(&texts); err != nil {
		return fmt.Errorf("read login texts: %w", err)
	}
	var t importdata.SetCustomLoginTextsRequest
	if err := importdata.Unmarshal([]byte(texts), &t); err != nil {
		return fmt.Errorf("read login texts: %w", err)
	}
	x.org.LoginTexts = append(x.org.LoginTexts, exportItem(t))
	return nil
}

func (x *exporter) messageTextRow(r pgx.Rows) error {
	var typ string
	var t importdata.SetCustomMessageTextRequest
	if err := r.Scan(&typ, &t.Language, &t.Title, &t.PreHeader, &t.Subject, &t.Greeting, &t.Text, &t.ButtonText, &t.FooterText); err != nil {
		return fmt.Errorf("read message texts: %w", err)
	}
	o := x.org
	switch typ {
	case "InitCode":
		o.InitMessages = append(o.InitMessages, exportItem(t))
	case "PasswordReset":
		o.PasswordResetMessages = append(o.PasswordResetMessages, exportItem(t))
	case "VerifyEmail":
		o.VerifyEmailMessages = append(o.VerifyEmailMessages, exportItem(t))
	case "VerifyPhone":
		o.VerifyPhoneMessages = append(o.VerifyPhoneMessages, exportItem(importdata.SetCustomVerifyPhoneMessageTextRequest(t)))
	case "DomainClaimed":
		o.DomainClaimedMessages = append(o.DomainClaimedMessages, exportItem(t))
	case "PasswordlessRegistration":
		o.PasswordlessRegistrationMessages = append(o.PasswordlessRegistrationMessages, exportItem(t))
	case "InviteUser":
		o.InviteUserMessages = append(o.InviteUserMessages, exportItem(t))
	case "VerifySMSOTP":
		o.VerifySMSOTPMessages = append(o.VerifySMSOTPMessages,
			exportItem(importdata.SetCustomVerifySMSOTPMessageTextRequest{Language: t.Language, Text: t.Text}))
	case "VerifyEmailOTP":
		o.VerifyEmailOTPMessages = append(o.VerifyEmailOTPMessages, exportItem(t))
	default:
		return fmt.Errorf("read message texts: unknown message type %q", typ)
	}
	return nil
}

func (x *exporter) idpRow(r pgx.Rows) error {
	var id, kind, name, styling, issuer string
	var autoRegister bool
	var clientID, displayMapping, userMapping, endpoint, keys, header *string
	var secret []byte
	var scopes []string
	if err := r.Scan(&id, &kind, &name, &styling, &autoRegister, &issuer, &clientID, &secret, &scopes,
		&displayMapping, &userMapping, &endpoint, &keys, &header); err != nil {
		return fmt.Errorf("read idps: %w", err)
	}
	stylingType, err := enumValue[importdata.IDPStylingType](styling)
	if err != nil {
		return err
	}
	switch kind {
	case "oidc":
		p := importdata.AddOrgOIDCIDPRequest{Name: name, StylingType: stylingType, ClientID: nullText(clientID), Issuer: issuer,
			AutoRegister: autoRegister}
		if len(scopes) > 0 {
			p.Scopes = scopes
		}
		if p.ClientSecret, err = x.open(secret, "client secret of IdP "+id); err != nil {
			return err
		}
		if err := enumPtr(&p.DisplayNameMapping, displayMapping); err != nil {
			return err
		}
		if err := enumPtr(&p.UsernameMapping, userMapping); err != nil {
			return err
		}
		x.org.OIDCIDPs = append(x.org.OIDCIDPs, exportItem(importdata.DataOIDCIDP{IDPID: id, IDP: p}))
	case "jwt":
		p := importdata.AddOrgJWTIDPRequest{Name: name, StylingType: stylingType, JWTEndpoint: nullText(endpoint), Issuer: issuer,
			KeysEndpoint: nullText(keys), HeaderName: nullText(header), AutoRegister: autoRegister}
		x.org.JWTIDPs = append(x.org.JWTIDPs, exportItem(importdata.DataJWTIDP{IDPID: id, IDP: p}))
	default:
		return fmt.Errorf("read idps: unknown kind %q of IdP %s", kind, id)
	}
	return nil
}

func (x *exporter) userRow(r pgx.Rows) error {
	var id, typ, userName, state string
	var first, last, nick, display, lang, gender, email, phone, hash, name, desc, tokenType *string
	var emailOK, phoneOK, change, passwordless bool
	var otp []byte
	if err := r.Scan(&id, &typ, &userName, &state, &first, &last, &nick, &display, &lang, &gender, &email, &emailOK,
		&phone, &phoneOK, &hash, &change, &name, &desc, &tokenType, &otp, &passwordless); err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	userState, err := enumValue[importdata.UserState](state)
	if err != nil {
		return err
	}
	if typ == "machine" {
		u := importdata.AddMachineUserRequest{UserName: userName, Name: nullText(name), Description: nullText(desc)}
		if err := enumPtr(&u.AccessTokenType, tokenType); err != nil {
			return err
		}
		x.org.MachineUsers = append(x.org.MachineUsers, exportItem(importdata.DataMachineUser{UserID: id, User: u, State: userState}))
		return nil
	}
	u := importdata.ImportHumanUserRequest{
		UserName: userName,
		Profile: &importdata.Profile{FirstName: nullText(first), LastName: nullText(last), NickName: nullText(nick),
			DisplayName: nullText(display), PreferredLanguage: nullText(lang)},
		Email:                           &importdata.Email{Email: nullText(email), IsEmailVerified: emailOK},
		PasswordChangeRequired:          change,
		RequestPasswordlessRegistration: passwordless,
	}
	if err := enumPtr(&u.Profile.Gender, gender); err != nil {
		return err
	}
	if phone != nil {
		u.Phone = &importdata.Phone{Phone: *phone, IsPhoneVerified: phoneOK}
	}
	if hash != nil {
		u.HashedPassword = &importdata.HashedPassword{Value: *hash}
	}
	if u.OTPCode, err = x.open(otp, "OTP secret of user "+id); err != nil {
		return err
	}
	if x.humans == nil {
		x.humans = map[string]int{}
	}
	x.humans[id] = len(x.org.HumanUsers)
	x.org.HumanUsers = append(x.org.HumanUsers, exportItem(importdata.DataHumanUser{UserID: id, User: u, State: userState}))
	return nil
}

func (x *exporter) userLinkRow(r pgx.Rows) error {
	var source, userID, idpID, external, display string
	var idpName, idpType *string
	if err := r.Scan(&source, &userID, &idpID, &external, &display, &idpName, &idpType); err != nil {
		return fmt.Errorf("read user links: %w", err)
	}
	if source == "human_user" {
		if x.humanIDPs == nil {
			x.humanIDPs = map[string][]importdata.HumanIDP{}
		}
		x.humanIDPs[userID] = append(x.humanIDPs[userID], importdata.HumanIDP{ConfigID: idpID, ExternalUserID: external, DisplayName: display})
		return nil
	}
	l := importdata.IDPUserLink{UserID: userID, IDPID: idpID, IDPName: nullText(idpName), ProvidedUserID: external, ProvidedUserName: display}
	if err := enumPtr(&l.IDPType, idpType); err != nil {
		return err
	}
	x.org.UserLinks = append(x.org.UserLinks, exportItem(l))
	return nil
}

// attachLinks gives the human users the IdP links made from their user.idps.
func (x *exporter) attachLinks() {
	for id, links := range x.humanIDPs {
		if i, ok := x.humans[id]; ok {
			x.org.HumanUsers[i].V.User.IDPs = links
		}
	}
}

func (x *exporter) metadataRow(r pgx.Rows) error {
	var m importdata.SetUserMetadataRequest
	var value []byte
	if err := r.Scan(&m.ID, &m.Key, &value); err != nil {
		return fmt.Errorf("read user metadata: %w", err)
	}
	m.Value = value
	x.org.UserMetadata = append(x.org.UserMetadata, exportItem(m))
	return nil
}

func (x *exporter) machineKeyRow(r pgx.Rows) error {
	var k importdata.DataMachineKey
	var typ string
	var expires time.Time
	var pem []byte
	if err := r.Scan(&k.KeyID, &k.UserID, &typ, &expires, &pem); err != nil {
		return fmt.Errorf("read machine keys: %w", err)
	}
	var err error
	if k.Type, err = enumValue[importdata.KeyType](typ); err != nil {
		return err
	}
	k.ExpirationDate, k.PublicKey = keyExpiration(expires), pem
	x.org.MachineKeys = append(x.org.MachineKeys, exportItem(k))
	return nil
}

func (x *exporter) projectRow(r pgx.Rows) error {
	var p importdata.DataProject
	var labeling string
	if err := r.Scan(&p.ProjectID, &p.Project.Name, &p.Project.ProjectRoleAssertion, &p.Project.ProjectRoleCheck,
		&p.Project.HasProjectCheck, &labeling); err != nil {
		return fmt.Errorf("read projects: %w", err)
	}
	var err error
	p.Project.PrivateLabelingSetting, err = enumValue[importdata.PrivateLabelingSetting](labeling)
	x.org.Projects = append(x.org.Projects, exportItem(p))
	return err
}

func (x *exporter) projectRoleRow(r pgx.Rows) error {
	var p importdata.AddProjectRoleRequest
	if err := r.Scan(&p.ProjectID, &p.RoleKey, &p.DisplayName, &p.Group); err != nil {
		return fmt.Errorf("read project roles: %w", err)
	}
	x.org.ProjectRoles = append(x.org.ProjectRoles, exportItem(p))
	return nil
}

func (x *exporter) appRow(r pgx.Rows) error {
	var id, kind, projectID, name, auth string
	var redirect, responses, grants, postLogout, origins []string
	var appType, version, tokenType, skew, backChannel, loginVersion, loginBaseURI *string
	var dev, accessRoles, idRoles, idUserinfo, skipSuccess *bool
	if err := r.Scan(&id, &kind, &projectID, &name, &auth, &redirect, &responses, &grants, &appType, &postLogout, &version,
		&dev, &tokenType, &accessRoles, &idRoles, &idUserinfo, &skew, &origins, &skipSuccess, &backChannel,
		&loginVersion, &loginBaseURI); err != nil {
		return fmt.Errorf("read apps: %w", err)
	}
	if kind == "api" {
		a := importdata.AddAPIAppRequest{ProjectID: projectID, Name: name}
		var err error
		if a.AuthMethodType, err = enumValue[importdata.APIAuthMethodType](auth); err != nil {
			return err
		}
		x.org.APIApps = append(x.org.APIApps, exportItem(importdata.DataAPIApplication{AppID: id, App: a}))
		return nil
	}
	if kind != "oidc" {
		return fmt.Errorf("read apps: unknown kind %q of app %s", kind, id)
	}
	a := importdata.AddOIDCAppRequest{ProjectID: projectID, Name: name, DevMode: nullBool(dev),
		AccessTokenRoleAssertion: nullBool(accessRoles), IDTokenRoleAssertion: nullBool(idRoles),
		IDTokenUserinfoAssertion: nullBool(idUserinfo), SkipNativeAppSuccessPage: nullBool(skipSuccess),
		BackChannelLogoutURI: nullText(backChannel)}
	// Lists are stored as given; empty ones are exported as absent.
	for _, l := range []struct{ dst, src *[]string }{{&a.RedirectURIs, &redirect}, {&a.PostLogoutRedirectURIs, &postLogout},
		{&a.AdditionalOrigins, &origins}} {
		if len(*l.src) > 0 {
			*l.dst = *l.src
		}
	}
	var err error
	if len(responses) > 0 {
		if a.ResponseTypes, err = enumValues[importdata.OIDCResponseType](responses); err != nil {
			return err
		}
	}
	if len(grants) > 0 {
		if a.GrantTypes, err = enumValues[importdata.OIDCGrantType](grants); err != nil {
			return err
		}
	}
	if a.AuthMethodType, err = enumValue[importdata.OIDCAuthMethodType](auth); err != nil {
		return err
	}
	if err := errors.Join(enumPtr(&a.AppType, appType), enumPtr(&a.Version, version), enumPtr(&a.AccessTokenType, tokenType)); err != nil {
		return err
	}
	if skew != nil {
		if a.ClockSkew, err = duration(*skew); err != nil {
			return err
		}
	}
	switch nullText(loginVersion) {
	case "v1":
		a.LoginVersion = &importdata.LoginVersion{LoginV1: &importdata.LoginV1{}}
	case "v2":
		a.LoginVersion = &importdata.LoginVersion{LoginV2: &importdata.LoginV2{BaseURI: loginBaseURI}}
	}
	x.org.OIDCApps = append(x.org.OIDCApps, exportItem(importdata.DataOIDCApplication{AppID: id, App: a}))
	return nil
}

func (x *exporter) appKeyRow(r pgx.Rows) error {
	var k importdata.DataAppKey
	var typ string
	var expires time.Time
	var pub []byte
	if err := r.Scan(&k.ID, &k.ProjectID, &k.AppID, &k.ClientID, &typ, &expires, &pub); err != nil {
		return fmt.Errorf("read app keys: %w", err)
	}
	var err error
	if k.Type, err = enumValue[importdata.KeyType](typ); err != nil {
		return err
	}
	k.ExpirationDate, k.PublicKey = keyExpiration(expires), pub
	x.org.AppKeys = append(x.org.AppKeys, exportItem(k))
	return nil
}

func (x *exporter) actionRow(r pgx.Rows) error {
	var d importdata.DataAction
	var timeout string
	if err := r.Scan(&d.ActionID, &d.Action.Name, &d.Action.Script, &timeout, &d.Action.AllowedToFail); err != nil {
		return fmt.Errorf("read actions: %w", err)
	}
	var err error
	d.Action.Timeout, err = duration(timeout)
	x.org.Actions = append(x.org.Actions, exportItem(d))
	return err
}

func (x *exporter) triggerActionRow(r pgx.Rows) error {
	var flow, trigger int
	var ids []string
	if err := r.Scan(&flow, &trigger, &ids); err != nil {
		return fmt.Errorf("read trigger actions: %w", err)
	}
	x.org.TriggerActions = append(x.org.TriggerActions, exportItem(importdata.SetTriggerActionsRequest{
		FlowType: strconv.Itoa(flow), TriggerType: strconv.Itoa(trigger), ActionIDs: ids}))
	return nil
}

func (x *exporter) projectGrantRow(r pgx.Rows) error {
	var g importdata.DataProjectGrant
	if err := r.Scan(&g.GrantID, &g.ProjectGrant.ProjectID, &g.ProjectGrant.GrantedOrgID, &g.ProjectGrant.RoleKeys); err != nil {
		return fmt.Errorf("read project grants: %w", err)
	}
	g.ProjectGrant.RoleKeys = nilIfEmpty(g.ProjectGrant.RoleKeys)
	x.org.ProjectGrants = append(x.org.ProjectGrants, exportItem(g))
	return nil
}

func (x *exporter) userGrantRow(r pgx.Rows) error {
	var g importdata.AddUserGrantRequest
	if err := r.Scan(&g.UserID, &g.ProjectID, &g.ProjectGrantID, &g.RoleKeys); err != nil {
		return fmt.Errorf("read user grants: %w", err)
	}
	g.RoleKeys = nilIfEmpty(g.RoleKeys)
	x.org.UserGrants = append(x.org.UserGrants, exportItem(g))
	return nil
}

func (x *exporter) orgMemberRow(r pgx.Rows) error {
	var m importdata.AddOrgMemberRequest
	if err := r.Scan(&m.UserID, &m.Roles); err != nil {
		return fmt.Errorf("read org members: %w", err)
	}
	m.Roles = nilIfEmpty(m.Roles)
	x.org.OrgMembers = append(x.org.OrgMembers, exportItem(m))
	return nil
}

func (x *exporter) projectMemberRow(r pgx.Rows) error {
	var m importdata.AddProjectMemberRequest
	if err := r.Scan(&m.ProjectID, &m.UserID, &m.Roles); err != nil {
		return fmt.Errorf("read project members: %w", err)
	}
	m.Roles = nilIfEmpty(m.Roles)
	x.org.ProjectMembers = append(x.org.ProjectMembers, exportItem(m))
	return nil
}

func (x *exporter) grantMemberRow(r pgx.Rows) error {
	var m importdata.AddProjectGrantMemberRequest
	if err := r.Scan(&m.ProjectID, &m.GrantID, &m.UserID, &m.Roles); err != nil {
		return fmt.Errorf("read project grant members: %w", err)
	}
	m.Roles = nilIfEmpty(m.Roles)
	x.org.ProjectGrantMembers = append(x.org.ProjectGrantMembers, exportItem(m))
	return nil
}

// nilIfEmpty returns nil for an empty list ('{}' in a table): absent, as in
// an import file without the list.
func nilIfEmpty(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}
