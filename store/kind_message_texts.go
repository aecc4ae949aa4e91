package store

import (
	"context"
	"fmt"

	"github.com/zimport/zimport/importdata"
)

// step sets the org's message texts of every type, one per type and
// language, in the imported org. ZITADEL writes them to the caller's org,
// skips verify-phone texts, processes invite-user texts only beside
// passwordless-registration texts and never imports the OTP texts: none of
// that is copied. Texts the org has are reported as existing (ZITADEL
// overwrites them; onConflict SKIP applies), and replaced with onConflict
// OVERWRITE. The results of the step's entities are numbered across its
// members, in the order of messageTypes.
func init() {
	fields := make([]string, len(messageTypes))
	for i, m := range messageTypes {
		fields[i] = m.field
	}
	// Type is the first member's; each result has the type of its member.
	register(&Step{Name: "message_texts", Type: "init_message", Fields: fields, Stage: StagePass1, Order: 12,
		apply: applyMessageTexts})
}

// messageType is a DataOrg member of message texts.
type messageType struct {
	field string // DataOrg member
	typ   string // error type
	name  string // ZITADEL's message text type, stored
	// items returns the elements of the member in org.
	items func(org *importdata.DataOrg) []messageItem
}

var messageTypes = []messageType{
	{"initMessages", "init_message", "InitCode",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.InitMessages) }},
	{"passwordResetMessages", "password_reset_message", "PasswordReset",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.PasswordResetMessages) }},
	{"verifyEmailMessages", "verify_email_message", "VerifyEmail",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.VerifyEmailMessages) }},
	{"verifyPhoneMessages", "verify_phone_message", "VerifyPhone",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.VerifyPhoneMessages) }},
	{"domainClaimedMessages", "domain_claimed_message", "DomainClaimed",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.DomainClaimedMessages) }},
	{"passwordlessRegistrationMessages", "passwordless_registration_message", "PasswordlessRegistration",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.PasswordlessRegistrationMessages) }},
	{"inviteUserMessages", "invite_user_messages", "InviteUser",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.InviteUserMessages) }},
	// Not in ZITADEL's catalogue, which never imports them.
	{"verifySmsOtpMessages", "verify_sms_otp_message", "VerifySMSOTP",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.VerifySMSOTPMessages) }},
	{"verifyEmailOtpMessages", "verify_email_otp_message", "VerifyEmailOTP",
		func(org *importdata.DataOrg) []messageItem { return messageItems(org.VerifyEmailOTPMessages) }},
}

// messageItem is an element of a member of message texts.
type messageItem struct {
	err  error
	v    interface{ Validate(string) error }
	text importdata.SetCustomMessageTextRequest
}

// messageText is what the message text types share.
type messageText interface {
	importdata.SetCustomMessageTextRequest | importdata.SetCustomVerifyPhoneMessageTextRequest |
		importdata.SetCustomVerifySMSOTPMessageTextRequest
}

func messageItems[T messageText](items importdata.Items[T]) []messageItem {
	out := make([]messageItem, len(items))
	for i := range items {
		it := &items[i]
		m := messageItem{err: it.Err}
		switch v := any(&it.V).(type) {
		case *importdata.SetCustomMessageTextRequest:
			m.v, m.text = v, *v
		case *importdata.SetCustomVerifyPhoneMessageTextRequest:
			m.v, m.text = v, importdata.SetCustomMessageTextRequest(*v)
		case *importdata.SetCustomVerifySMSOTPMessageTextRequest:
			m.v, m.text = v, importdata.SetCustomMessageTextRequest{Language: v.Language, Text: v.Text}
		}
		out[i] = m
	}
	return out
}

// messageEntry is one message text of the org with its outcome.
type messageEntry struct {
	kind    *messageType
	index   int // in its member
	id      string
	tag     string
	text    importdata.SetCustomMessageTextRequest
	outcome string // "", "ok", "overwritten", "error" or "existed"
	msg     string
}

func applyMessageTexts(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	var entries []*messageEntry
	for k := range messageTypes {
		kind := &messageTypes[k]
		for i, it := range kind.items(org) {
			e := &messageEntry{kind: kind, index: i, id: a.orgID + "_" + it.text.Language, text: it.text}
			entries = append(entries, e)
			path := fmt.Sprintf("%s[%d]", kind.field, i)
			if msg := entityProblems(path, it.err, it.v); msg != "" {
				e.outcome, e.msg = "error", zerr("ORG-2jfsf", "Errors.CustomText.Invalid", msg)
				continue
			}
			tag, msg := languageTag(path+".language", it.text.Language)
			if msg != "" {
				e.outcome, e.msg = "error", msg
				continue
			}
			e.tag = tag
		}
	}
	if err := a.insertMessageTexts(ctx, entries); err != nil {
		return err
	}
	for item, e := range entries {
		id, msg := safeText(e.id), safeText(e.msg)
		switch e.outcome {
		case "ok":
			a.succeed(step, item, e.kind.typ, id)
		case outcomeOverwritten:
			a.overwrote(step, item, e.kind.typ, id, id)
		case "error":
			a.fail(step, item, e.kind.typ, id, msg)
		case "existed":
			a.failOrExisting(step, item, e.kind.typ, id, msg)
		default:
			return fmt.Errorf("%s[%d] has no outcome", e.kind.field, e.index)
		}
	}
	return nil
}

// insertMessageTexts inserts the entries that passed their checks (those
// without an outcome), or updates those the org has with onConflict
// OVERWRITE, and decides their outcome.
func (a *applier) insertMessageTexts(ctx context.Context, entries []*messageEntry) error {
	var types, tags []string
	for _, e := range entries {
		if e.outcome == "" {
			types, tags = append(types, e.kind.name), append(tags, e.tag)
		}
	}
	if len(types) == 0 {
		return nil
	}
	existing, err := a.set(ctx, "look up message texts", `SELECT message_type, language_tag FROM message_texts
		WHERE instance_id = $1 AND org_id = $2 AND (message_type, language_tag) IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
		a.job.InstanceID, a.orgID, types, tags)
	if err != nil {
		return err
	}
	first := map[tuple]*messageEntry{}
	var ins, upd []*messageEntry
	for _, e := range entries {
		if e.outcome != "" {
			continue
		}
		k := tuple{e.kind.name, e.tag}
		switch f := first[k]; {
		case f != nil:
			e.outcome, e.msg = "error", textTwice(e.kind.field, f.index, e.text.Language)
		case existing[k] && a.overwriting():
			first[k] = e
			upd = append(upd, e)
		case existing[k]:
			first[k] = e
			e.outcome, e.msg = "existed", textExists(e.kind.field, e.text.Language)
		default:
			first[k] = e
			ins = append(ins, e)
		}
	}
	if len(ins) > 0 {
		c := messageColumns(ins)
		inserted, err := a.set(ctx, "insert message texts", `INSERT INTO message_texts (instance_id, org_id, message_type, language,
				language_tag, title, pre_header, subject, greeting, text, button_text, footer_text)
			SELECT $1, $2, t.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::text[], $11::text[], $12::text[])
				AS t(message_type, language, language_tag, title, pre_header, subject, greeting, text, button_text, footer_text)
			ON CONFLICT DO NOTHING RETURNING message_type, language_tag`,
			a.job.InstanceID, a.orgID, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
		if err != nil {
			return err
		}
		settleMessageTexts(ins, inserted, "ok")
	}
	if len(upd) > 0 {
		c := messageColumns(upd)
		updated, err := a.set(ctx, "update message texts", `UPDATE message_texts m SET language = t.language, title = t.title,
				pre_header = t.pre_header, subject = t.subject, greeting = t.greeting, text = t.text,
				button_text = t.button_text, footer_text = t.footer_text
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::text[], $11::text[], $12::text[])
				AS t(message_type, language, language_tag, title, pre_header, subject, greeting, text, button_text, footer_text)
			WHERE m.instance_id = $1 AND m.org_id = $2 AND m.message_type = t.message_type AND m.language_tag = t.language_tag
			RETURNING m.message_type, m.language_tag`,
			a.job.InstanceID, a.orgID, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
		if err != nil {
			return err
		}
		settleMessageTexts(upd, updated, outcomeOverwritten)
	}
	return nil
}

// messageColumns returns the columns of entries for an unnest: message
// type, language, language tag and the texts, in the table's order.
func messageColumns(entries []*messageEntry) [10][]string {
	var cols [10][]string
	for c := range cols {
		cols[c] = column(len(entries))
	}
	for j, e := range entries {
		t := e.text
		for c, v := range []string{e.kind.name, t.Language, e.tag, t.Title, t.PreHeader, t.Subject, t.Greeting, t.Text, t.ButtonText, t.FooterText} {
			cols[c][j] = v
		}
	}
	return cols
}

// settleMessageTexts gives the entries a statement wrote (returned) the
// outcome done, the others the error of existing texts.
func settleMessageTexts(entries []*messageEntry, written map[tuple]bool, done string) {
	for _, e := range entries {
		if written[tuple{e.kind.name, e.tag}] {
			e.outcome = done
		} else {
			e.outcome, e.msg = "existed", textExists(e.kind.field, e.text.Language)
		}
	}
}
