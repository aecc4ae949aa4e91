package worker

import (
	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/store"
)

// planUnits cuts one org into units: for each stage, the org's steps in
// order, consecutive steps merged into one unit that decodes the org, and
// each chunk of a large array a unit of its own. Chunkable steps without
// data get no unit; the others (the org, the report of unsupported members)
// always run. It also adds the org's entity counts to totals.
func planUnits(jobID string, org importdata.OrgLayout, steps []store.Step, totals map[string]int) []store.Unit {
	var units []store.Unit
	stage, seq := 0, 0
	var group []string
	flush := func() {
		if len(group) > 0 {
			units = append(units, store.Unit{JobID: jobID, Stage: stage, OrgIndex: org.Index, Seq: seq,
				Steps: group, SrcStart: org.Start, SrcEnd: org.End})
			seq++
			group = nil
		}
	}
	for _, s := range steps {
		if s.Stage != stage {
			flush()
			stage, seq = s.Stage, 0
		}
		if !s.Chunkable {
			group = append(group, s.Name)
			if !s.Uncounted {
				totals[s.Name]++
			}
			continue
		}
		arr := org.Arrays[s.Fields[0]]
		if arr == nil || arr.Count == 0 {
			continue
		}
		totals[s.Name] += arr.Count
		if len(arr.Chunks) == 0 {
			group = append(group, s.Name)
			continue
		}
		flush()
		for _, c := range arr.Chunks {
			units = append(units, store.Unit{JobID: jobID, Stage: stage, OrgIndex: org.Index, Seq: seq,
				Steps: []string{s.Name}, Field: s.Fields[0], FirstItem: c.First, SrcStart: c.Start, SrcEnd: c.End})
			seq++
		}
	}
	flush()
	return units
}
