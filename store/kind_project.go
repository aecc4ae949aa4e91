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
	var ins, upd projectRows
	for i, it := range items {
		p := it.V
		switch owner := owners[p.ProjectID]; {
		case !o.open(i):
		case seen[p.ProjectID]:
			o.exists(i, projectExists)
		case owner != "" && a.overwriting() && owner == a.orgID:
			seen[p.ProjectID] = true
			upd.add(i, p)
		case owner != "":
			o.exists(i, a.existsIn(projectExists, owner))
		default:
			seen[p.ProjectID] = true
			ins.add(i, p)
		}
	}
	if len(ins.idx) > 0 {
		rows, err := a.textRows(ctx, "insert projects", `INSERT INTO projects (instance_id, org_id, id, name,
				project_role_assertion, project_role_check, has_project_check, private_labeling_setting)
			SELECT $1, $2, t.* FROM unnest($3::text[], $4::text[], $5::bool[], $6::bool[], $7::bool[], $8::text[])
				AS t(id, name, assertion, role_check, has_check, labeling)
			ON CONFLICT DO NOTHING RETURNING id`,
			ins.args(a)...)
		if err != nil {
			return err
		}
		inserted := firstColumn(rows)
		for _, i := range ins.idx {
			if id := items[i].V.ProjectID; inserted[id] {
				o.ok(i, id)
			} else {
				o.exists(i, projectExists) // created by a parallel unit meanwhile
			}
		}
	}
	if len(upd.idx) > 0 {
		rows, err := a.textRows(ctx, "update projects", `UPDATE projects p SET name = t.name,
				project_role_assertion = t.assertion, project_role_check = t.role_check,
				has_project_check = t.has_check, private_labeling_setting = t.labeling
			FROM unnest($3::text[], $4::text[], $5::bool[], $6::bool[], $7::bool[], $8::text[])
				AS t(id, name, assertion, role_check, has_check, labeling)
			WHERE p.instance_id = $1 AND p.org_id = $2 AND p.id = t.id RETURNING p.id`,
			upd.args(a)...)
		if err != nil {
			return err
		}
		a.settleUpdated(o, upd.idx, upd.pid, firstColumn(rows), projectExists)
	}
	return o.flush()
}

// projectRows are the columns of projects to insert or update.
type projectRows struct {
	idx                        []int
	pid, name, labeling        []string
	assertion, check, hasCheck []bool
}

func (r *projectRows) add(i int, p importdata.DataProject) {
	r.idx = append(r.idx, i)
	r.pid, r.name, r.labeling = append(r.pid, p.ProjectID), append(r.name, p.Project.Name), append(r.labeling, p.Project.PrivateLabelingSetting.String())
	r.assertion, r.check = append(r.assertion, p.Project.ProjectRoleAssertion), append(r.check, p.Project.ProjectRoleCheck)
	r.hasCheck = append(r.hasCheck, p.Project.HasProjectCheck)
}

// args are the parameters $1 to $8 of the insert and the update.
func (r *projectRows) args(a *applier) []any {
	return []any{a.job.InstanceID, a.orgID, r.pid, r.name, r.assertion, r.check, r.hasCheck, r.labeling}
}
