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
//
// In a v1 payload (v1 true) a step reads the v1 members its v2 members are
// converted from (importdata.V1Sources) and runs when the first of them is
// in the org; the org's layout and the units name members as v1 does.
func planUnits(jobID string, org importdata.OrgLayout, steps []store.Step, totals map[string]int, v1 bool) []store.Unit {
	var units []store.Unit
	stage, seq := 0, 0
	var group []store.Step
	flush := func() {
		if len(group) > 0 {
			u := store.Unit{JobID: jobID, Stage: stage, OrgIndex: org.Index, Seq: seq,
				SrcStart: org.Start, SrcEnd: org.End, Spans: memberSpans(org, group, v1)}
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
		decides := deciding(s, v1)
		if !s.Chunkable {
			if n, present := count(org, s, decides); present {
				group = append(group, s)
				if !s.Uncounted {
					totals[s.Name] += n
				}
			}
			continue
		}
		if len(decides) == 0 {
			continue
		}
		field := decides[0]
		arr := org.Arrays[field]
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
				Steps: []string{s.Name}, Field: field, FirstItem: c.First, SrcStart: c.Start, SrcEnd: c.End})
			seq++
		}
	}
	flush()
	return units
}

// deciding returns the members of a step that decide whether it runs and
// what it counts: its Fields, or in a v1 payload the first v1 source of each.
func deciding(s store.Step, v1 bool) []string {
	if !v1 {
		return s.Fields
	}
	var out []string
	for _, f := range s.Fields {
		if src := importdata.V1Sources(f); len(src) > 0 {
			out = append(out, src[0])
		}
	}
	return out
}

// reads returns the members a step reads: its Fields, or in a v1 payload
// every v1 source of them.
func reads(s store.Step, v1 bool) []string {
	if !v1 {
		return s.Fields
	}
	var out []string
	for _, f := range s.Fields {
		out = append(out, importdata.V1Sources(f)...)
	}
	return out
}

// count returns the number of entities of a step that is not chunkable in
// the org, the elements of its array members (of fields, the members that
// decide) or else one, and whether the step runs at all.
func count(org importdata.OrgLayout, s store.Step, fields []string) (n int, present bool) {
	arrays := false
	for _, f := range fields {
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
func memberSpans(org importdata.OrgLayout, steps []store.Step, v1 bool) []store.Span {
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
		for _, f := range reads(s, v1) {
			add(f)
		}
	}
	slices.SortFunc(spans, func(a, b store.Span) int { return cmp.Compare(a.Start, b.Start) })
	return spans
}
