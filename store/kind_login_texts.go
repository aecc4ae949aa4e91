package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step sets the org's login texts, one set per language, stored as given.
// ZITADEL overwrites texts that the org has; zimport reports them as
// existing (onConflict SKIP applies), and replaces them with onConflict
// OVERWRITE.
func init() {
	register(&Step{Name: "login_texts", Type: "login_texts", Fields: []string{"loginTexts"}, Stage: StagePass1, Order: 11,
		Chunkable: true, apply: applyLoginTexts})
	// Results carry ZITADEL's id "orgId_language"; there is no success list.
}

func applyLoginTexts(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.LoginTexts
	o := newOutcomes(a, step, len(items))
	tags := make([]string, len(items))
	var want []string
	for i, it := range items {
		t := it.V
		o.setID(i, a.orgID+"_"+t.Language)
		if !o.check(i, "loginTexts", it.Err, &t, "ORG-PPo2w", "Errors.CustomText.Invalid") {
			continue
		}
		tag, msg := languageTag(a.path("loginTexts", i)+".language", t.Language)
		if msg != "" {
			o.fail(i, msg)
			continue
		}
		tags[i] = tag
		want = append(want, tag)
	}
	if len(want) == 0 {
		return o.flush()
	}
	existing, err := a.set(ctx, "look up login texts", `SELECT language_tag FROM login_texts
		WHERE instance_id = $1 AND org_id = $2 AND language_tag = ANY($3)`, a.job.InstanceID, a.orgID, want)
	if err != nil {
		return err
	}
	first := map[string]int{}
	var ins, upd loginTextRows
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		tag := tags[i]
		if j, twice := first[tag]; twice {
			o.fail(i, textTwice("loginTexts", a.item(j), it.V.Language))
			continue
		}
		first[tag] = i
		switch {
		case existing[tuple{tag}] && a.overwriting():
			upd.add(i, it.V.Language, tag, string(it.V.Texts))
		case existing[tuple{tag}]:
			o.exists(i, textExists("login texts", it.V.Language))
		default:
			ins.add(i, it.V.Language, tag, string(it.V.Texts))
		}
	}
	if len(ins.idx) > 0 {
		inserted, err := a.set(ctx, "insert login texts", `INSERT INTO login_texts (instance_id, org_id, language, language_tag, texts)
			SELECT $1, $2, t.language, t.tag, t.texts::jsonb FROM unnest($3::text[], $4::text[], $5::text[]) AS t(language, tag, texts)
			ON CONFLICT DO NOTHING RETURNING language_tag`, a.job.InstanceID, a.orgID, ins.langs, ins.tags, ins.texts)
		if err != nil {
			return err
		}
		ins.settle(a, o, inserted, o.ok)
	}
	if len(upd.idx) > 0 {
		updated, err := a.set(ctx, "update login texts", `UPDATE login_texts l SET language = t.language, texts = t.texts::jsonb
			FROM unnest($3::text[], $4::text[], $5::text[]) AS t(language, tag, texts)
			WHERE l.instance_id = $1 AND l.org_id = $2 AND l.language_tag = t.tag RETURNING l.language_tag`,
			a.job.InstanceID, a.orgID, upd.langs, upd.tags, upd.texts)
		if err != nil {
			return err
		}
		upd.settle(a, o, updated, o.overwrote)
	}
	return o.flush()
}

// loginTextRows are login texts to insert or update: item idx[j] of the step
// has language langs[j], canonical tag tags[j] and texts texts[j].
type loginTextRows struct {
	idx                []int
	langs, tags, texts []string
}

func (r *loginTextRows) add(i int, lang, tag, texts string) {
	r.idx = append(r.idx, i)
	r.langs, r.tags, r.texts = append(r.langs, lang), append(r.tags, tag), append(r.texts, texts)
}

// settle records the outcome of the texts a statement was given: those
// whose tag it returned (written) with done (ok or overwrote), the others
// as existing.
func (r *loginTextRows) settle(a *applier, o *outcomes, written map[tuple]bool, done func(i int, okID string, f ...string)) {
	for j, i := range r.idx {
		if written[tuple{r.tags[j]}] {
			done(i, a.orgID+"_"+r.langs[j])
		} else {
			o.exists(i, textExists("login texts", r.langs[j]))
		}
	}
}
