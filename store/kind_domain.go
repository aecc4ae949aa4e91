package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/zimport/zimport/importdata"
)

// step adds the org's domains. Under a domain policy that does not validate
// org domains (the instance's default, ZITADEL's), a domain is verified when
// it is added, and one that another org verified is an error and is not
// added; under one that does, it is verified when the import says so (no
// DNS challenge), else added unverified. A verified domain may be made the
// org's primary domain. With onConflict OVERWRITE a
// domain the org has is updated: its verification and whether it is
// primary (a domain made primary un-primaries the org's other one).
func init() {
	register(&Step{Name: "domains", Type: "domain", Fields: []string{"domains"}, Stage: StagePass1, Order: 3,
		Success: "domains", Chunkable: true, apply: applyDomains})
	// Success rows carry the domain name as their id (the success entry);
	// errors use ZITADEL's id "orgId_domainName".
}

func applyDomains(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.Domains
	for i := range items {
		// ZITADEL trims domain names before it checks and stores them.
		items[i].V.DomainName = strings.TrimSpace(items[i].V.DomainName)
	}
	o := newOutcomes(a, step, len(items))
	var names []string
	for i, it := range items {
		d := it.V
		o.setID(i, a.orgID+"_"+d.DomainName)
		if o.check(i, "domains", it.Err, &d, "ORG-R24hb", "Errors.Org.InvalidDomain") {
			names = append(names, d.DomainName)
		}
	}
	if len(names) == 0 {
		return o.flush()
	}
	// Under a domain policy that does not validate org domains (ZITADEL's
	// default), a domain is verified when it is added (AddOrgDomain);
	// otherwise only when the import says isVerified (VerifyOrgDomain).
	_, validates, err := a.domainPolicy(ctx)
	if err != nil {
		return err
	}
	verify := func(d importdata.Domain) bool { return d.IsVerified || !validates }
	// Per name: its folded form (as the database folds it), whether this org
	// has it, and whether another org of the instance verified it.
	rows, err := a.textRows(ctx, "look up domains", `SELECT n, lower(n),
			EXISTS (SELECT 1 FROM org_domains WHERE instance_id = $1 AND org_id = $2 AND lower(domain) = lower(n))::text,
			EXISTS (SELECT 1 FROM org_domains WHERE instance_id = $1 AND org_id <> $2 AND is_verified AND lower(domain) = lower(n))::text
		FROM unnest($3::text[]) AS n`, a.job.InstanceID, a.orgID, names)
	if err != nil {
		return err
	}
	type found struct {
		folded                 string
		own, verifiedElsewhere bool
	}
	known := make(map[string]found, len(rows))
	for _, r := range rows {
		known[r[0]] = found{r[1], r[2] == "true", r[3] == "true"}
	}

	const exists = "Errors.Org.Domain.AlreadyExists"
	seen := map[string]bool{}
	var idx, updIdx []int
	var insNames, updNames []string
	var insVerified, updVerified []bool
	for i, it := range items {
		if !o.open(i) {
			continue
		}
		d, k := it.V, known[it.V.DomainName]
		switch {
		case k.own && !a.overwriting():
			o.exists(i, zerr("COMMA-Bd2jj", exists, fmt.Sprintf("org %q has domain %q", a.orgID, d.DomainName)))
		case seen[k.folded]:
			// What a later chunk of the list would say: the org has it now.
			o.exists(i, zerr("COMMA-Bd2jj", exists, fmt.Sprintf("org %q has domain %q", a.orgID, d.DomainName)))
		case k.own && verify(d) && k.verifiedElsewhere:
			seen[k.folded] = true
			o.fail(i, zerr("V3-DKcYh", exists, fmt.Sprintf(
				"domain %q is verified by another org; it cannot be verified in org %q too and was not overwritten", d.DomainName, a.orgID)))
		case k.own:
			seen[k.folded] = true
			updIdx = append(updIdx, i)
			updNames = append(updNames, d.DomainName)
			updVerified = append(updVerified, verify(d))
		case k.verifiedElsewhere && !validates:
			o.fail(i, verifiedElsewhere(d.DomainName))
		default:
			seen[k.folded] = true
			idx = append(idx, i)
			insNames = append(insNames, d.DomainName)
			insVerified = append(insVerified, verify(d) && !k.verifiedElsewhere)
		}
	}

	updated, err := a.updateDomains(ctx, updNames, updVerified)
	if err != nil {
		return err
	}
	inserted, err := a.insertDomains(ctx, insNames, insVerified)
	if err != nil {
		return err
	}
	// A domain verified by another org meanwhile is added unverified when
	// the policy validates domains (else it is an error, below).
	var retry []string
	for j, name := range insNames {
		if !inserted[name] && insVerified[j] && validates {
			retry = append(retry, name)
			insVerified[j] = false
		}
	}
	if len(retry) > 0 {
		again, err := a.insertDomains(ctx, retry, make([]bool, len(retry)))
		if err != nil {
			return err
		}
		for name := range again {
			inserted[name] = true
		}
	}

	// The primary domain is the last one given as primary that is
	// verified now, as one after the other would make it.
	primary := ""
	setPrimary := func(i int, d importdata.Domain, verified bool) {
		switch {
		case !d.IsPrimary:
		case !verified:
			o.note(i, "domain_isprimary", zerr("ORG-Ggd32", "Errors.Org.DomainNotVerified",
				fmt.Sprintf("domain %q is not verified and cannot be primary", d.DomainName)))
		default:
			primary = d.DomainName
		}
	}
	ins, upd := 0, 0
	for i := range items {
		d := items[i].V
		switch {
		case ins < len(idx) && idx[ins] == i:
			j := ins
			ins++
			switch {
			case !inserted[d.DomainName] && insVerified[j] && !validates:
				o.fail(i, verifiedElsewhere(d.DomainName))
				continue
			case !inserted[d.DomainName]:
				o.exists(i, zerr("COMMA-Bd2jj", exists, fmt.Sprintf("org %q has domain %q", a.orgID, d.DomainName)))
				continue
			}
			o.ok(i, d.DomainName)
			if d.IsVerified && !insVerified[j] {
				o.note(i, "domain_isverified", zerr("V3-DKcYh", exists,
					fmt.Sprintf("domain %q is verified by another org; it was added unverified", d.DomainName)))
			}
			setPrimary(i, d, insVerified[j])
		case upd < len(updIdx) && updIdx[upd] == i:
			j := upd
			upd++
			if !updated[known[d.DomainName].folded] {
				o.exists(i, zerr("COMMA-Bd2jj", exists, fmt.Sprintf("org %q has domain %q", a.orgID, d.DomainName)))
				continue
			}
			o.overwrote(i, d.DomainName)
			setPrimary(i, d, updVerified[j])
		}
	}
	if primary != "" {
		if _, err := a.db.Exec(ctx, `UPDATE org_domains SET is_primary = (domain = $3)
			WHERE instance_id = $1 AND org_id = $2 AND (is_primary OR domain = $3)`,
			a.job.InstanceID, a.orgID, primary); err != nil {
			return fmt.Errorf("set primary domain: %w", err)
		}
	}
	return o.flush()
}

// verifiedElsewhere is the error of a domain that another org verified,
// which cannot be added verified: the verified-domain unique constraint of
// ZITADEL.
func verifiedElsewhere(domain string) string {
	return zerr("V3-DKcYh", "Errors.Org.Domain.AlreadyExists",
		fmt.Sprintf("domain %q is verified by another org; it was not added", domain))
}

// updateDomains sets the names (as given) and verification of domains of
// the org, matched ignoring case, and makes them not primary: the step then
// makes the import's primary domain primary. It returns the domains it
// updated, folded as the database's lower() does. A domain that another org
// verified is never given here as verified.
func (a *applier) updateDomains(ctx context.Context, names []string, verified []bool) (map[string]bool, error) {
	if len(names) == 0 {
		return map[string]bool{}, nil
	}
	rows, err := a.textRows(ctx, "update domains", `WITH old AS (
			SELECT domain FROM org_domains
			WHERE instance_id = $1 AND org_id = $2 AND lower(domain) IN (SELECT lower(n) FROM unnest($3::text[]) AS n)
			FOR UPDATE)
		UPDATE org_domains d SET domain = t.domain, is_verified = t.verified, is_primary = false
		FROM unnest($3::text[], $4::bool[]) AS t(domain, verified), old
		WHERE d.instance_id = $1 AND d.org_id = $2 AND lower(d.domain) = lower(t.domain) AND old.domain = d.domain
		RETURNING lower(d.domain)`,
		a.job.InstanceID, a.orgID, names, verified)
	return firstColumn(rows), err
}

// insertDomains adds domains to the org and returns those it added.
func (a *applier) insertDomains(ctx context.Context, names []string, verified []bool) (map[string]bool, error) {
	if len(names) == 0 {
		return map[string]bool{}, nil
	}
	rows, err := a.textRows(ctx, "insert domains", `INSERT INTO org_domains (instance_id, org_id, domain, is_verified)
		SELECT $1, $2, t.domain, t.verified FROM unnest($3::text[], $4::bool[]) AS t(domain, verified)
		ON CONFLICT DO NOTHING RETURNING domain`, a.job.InstanceID, a.orgID, names, verified)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r[0]] = true
	}
	return out, nil
}
