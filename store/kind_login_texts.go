package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step sets the org's login texts, one set per language, stored as given.
// ZITADEL overwrites texts that the org has; zimport reports them as
// existing (onConflict SKIP applies).
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
	var idx []int
	var langs, insTags, texts []string
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
		if existing[tuple{tag}] {
			o.exists(i, textExists("login texts", it.V.Language))
			continue
		}
		idx = append(idx, i)
		langs, insTags, texts = append(langs, it.V.Language), append(insTags, tag), append(texts, string(it.V.Texts))
	}
	if len(idx) > 0 {
		inserted, err := a.set(ctx, "insert login texts", `INSERT INTO login_texts (instance_id, org_id, language, language_tag, texts)
			SELECT $1, $2, t.language, t.tag, t.texts::jsonb FROM unnest($3::text[], $4::text[], $5::text[]) AS t(language, tag, texts)
			ON CONFLICT DO NOTHING RETURNING language_tag`, a.job.InstanceID, a.orgID, langs, insTags, texts)
		if err != nil {
			return err
		}
		for j, i := range idx {
			if inserted[tuple{insTags[j]}] {
				o.ok(i, a.orgID+"_"+langs[j])
			} else {
				o.exists(i, textExists("login texts", langs[j]))
			}
		}
	}
	return o.flush()
}
