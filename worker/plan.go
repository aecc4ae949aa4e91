package worker

import (
	"cmp"
	"slices"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/store"
)

// planUnits cuts one org into units: for each stage, the org's steps in
// order, consecutive steps merged into one unit that reads only the members
// its steps need, and each chunk of a large array a unit of its own. A step
// runs when the org has one of its members, or always when it says so (the
// org step). It also adds the org's entity counts to totals.
func planUnits(jobID string, org importdata.OrgLayout, steps []store.Step, totals map[string]int) []store.Unit {
	var units []store.Unit
	stage, seq := 0, 0
	var group []store.Step
	flush := func() {
		if len(group) > 0 {
			u := store.Unit{JobID: jobID, Stage: stage, OrgIndex: org.Index, Seq: seq,
				SrcStart: org.Start, SrcEnd: org.End, Spans: memberSpans(org, group)}
			for _, s := range group {
				u.Steps = append(u.Steps, s.Name)
			}
			units = append(units, u)
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
			if n, present := count(org, s); present {
				group = append(group, s)
				if !s.Uncounted {
					totals[s.Name] += n
				}
			}
			continue
		}
		arr := org.Arrays[s.Fields[0]]
		if arr == nil || arr.Count == 0 {
			continue
		}
		totals[s.Name] += arr.Count
		if len(arr.Chunks) == 0 {
			group = append(group, s)
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

// count returns the number of entities of a step that is not chunkable in
// the org, the elements of its array members or else one, and whether the
// step runs at all.
func count(org importdata.OrgLayout, s store.Step) (n int, present bool) {
	arrays := false
	for _, f := range s.Fields {
		if _, ok := org.Members[importdata.MemberKey(f)]; ok {
			present = true
		}
		if arr := org.Arrays[f]; arr != nil {
			arrays = true
			n += arr.Count
		}
	}
	if !arrays {
		n = 1
	}
	return n, present || s.Always
}

// memberSpans returns the spans of the org's members that the steps read,
// with "orgId", in the order of the org.
func memberSpans(org importdata.OrgLayout, steps []store.Step) []store.Span {
	spans := []store.Span{}
	seen := map[string]bool{}
	add := func(field string) {
		key := importdata.MemberKey(field)
		if sp, ok := org.Members[key]; ok && !seen[key] {
			seen[key] = true
			spans = append(spans, store.Span{Start: sp.Start, End: sp.End})
		}
	}
	add("orgId")
	for _, s := range steps {
		for _, f := range s.Fields {
			add(f)
		}
	}
	slices.SortFunc(spans, func(a, b store.Span) int { return cmp.Compare(a.Start, b.Start) })
	return spans
}
