package store

import (
	"context"

	"github.com/zimport/zimport/importdata"
)

// step creates projects with their given ids.
func init() {
	register(&Step{Name: "projects", Type: "project", Fields: []string{"projects"}, Stage: StagePass1, Order: 18,
		Success: "projectIds", Chunkable: true, apply: applyProjects})
}

const projectExists = "ID=PROJECT-37fug Message=Errors.AlreadyExists"

func applyProjects(ctx context.Context, a *applier, step *Step, org *importdata.DataOrg) error {
	items := org.Projects
	o := newOutcomes(a, step, len(items))
	var ids []string
	for i, it := range items {
		p := it.V
		o.setID(i, p.ProjectID)
		if o.check(i, "projects", it.Err, &p, "PROJECT-IOVCC", "Errors.Project.Invalid") {
			ids = append(ids, p.ProjectID)
		}
	}
	owners, err := a.owners(ctx, "projects", ids)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var idx []int
	var pid, name, labeling []string
	var assertion, check, hasCheck []bool
	for i, it := range items {
		p := it.V
		switch {
		case !o.open(i):
		case owners[p.ProjectID] != "" || seen[p.ProjectID]:
			o.exists(i, projectExists)
		default:
			seen[p.ProjectID] = true
			idx = append(idx, i)
			pid, name, labeling = append(pid, p.ProjectID), append(name, p.Project.Name), append(labeling, p.Project.PrivateLabelingSetting.String())
			assertion, check, hasCheck = append(assertion, p.Project.ProjectRoleAssertion), append(check, p.Project.ProjectRoleCheck), append(hasCheck, p.Project.HasProjectCheck)
		}
	}
	if len(idx) > 0 {
		rows, err := a.textRows(ctx, "insert projects", `INSERT INTO projects (instance_id, org_id, id, name,
				project_role_assertion, project_role_check, has_project_check, private_labeling_setting)
			SELECT $1, $2, t.* FROM unnest($3::text[], $4::text[], $5::bool[], $6::bool[], $7::bool[], $8::text[])
				AS t(id, name, assertion, role_check, has_check, labeling)
			ON CONFLICT DO NOTHING RETURNING id`,
			a.job.InstanceID, a.orgID, pid, name, assertion, check, hasCheck, labeling)
		if err != nil {
			return err
		}
		inserted := firstColumn(rows)
		for _, i := range idx {
			if id := items[i].V.ProjectID; inserted[id] {
				o.ok(i, id)
			} else {
				o.exists(i, projectExists) // created by a parallel unit meanwhile
			}
		}
	}
	return o.flush()
}
