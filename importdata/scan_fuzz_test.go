package importdata_test

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	gocmp "github.com/google/go-cmp/cmp"

	"github.com/zimport/zimport/gen"
	"github.com/zimport/zimport/importdata"
)

// spanCase is one generated file whose layout FuzzScanSpans and
// TestScanSpansGenerated check.
type spanCase struct {
	seed   int64
	orgs   int // 1..6
	users  int // per org, 0..400
	chunk  int // ScanOptions.ChunkSize, 1..64
	grants bool
	v1     bool
	// badTypes makes a tenth of the users have a value of the wrong type, so
	// that elements carry errors.
	badTypes bool
	// indent re-indents the file, so that spans start at other whitespace.
	indent bool
	prefix string // gen.Options.OrgPrefix
}

func (c spanCase) String() string {
	return fmt.Sprintf("seed=%d orgs=%d users=%d chunk=%d grants=%t v1=%t badTypes=%t indent=%t prefix=%q",
		c.seed, c.orgs, c.users, c.chunk, c.grants, c.v1, c.badTypes, c.indent, c.prefix)
}

func (c spanCase) options() gen.Options {
	o := gen.Options{Orgs: c.orgs, Users: c.users, Grants: c.grants, Metadata: 0.5, Members: 0.25,
		Bad: 0.1, Seed: c.seed, V1: c.v1, OrgPrefix: c.prefix}
	if c.badTypes {
		o.BadTypes = 0.1
	}
	return o
}

func TestScanSpansGenerated(t *testing.T) {
	tests := []spanCase{
		{seed: 1, orgs: 1, users: 0, chunk: 1},
		{seed: 2, orgs: 1, users: 1, chunk: 1, grants: true},
		{seed: 3, orgs: 2, users: 10, chunk: 10, grants: true},  // one full chunk: not chunked
		{seed: 4, orgs: 3, users: 11, chunk: 10, grants: true},  // a chunk of one more
		{seed: 5, orgs: 6, users: 400, chunk: 64, grants: true}, // the largest
		{seed: 6, orgs: 4, users: 97, chunk: 7, v1: true, grants: true},
		{seed: 7, orgs: 2, users: 120, chunk: 13, badTypes: true, grants: true},
		{seed: 8, orgs: 3, users: 50, chunk: 3, v1: true, badTypes: true, indent: true},
		{seed: 9, orgs: 2, users: 30, chunk: 4, grants: true, indent: true, prefix: `q"\,[]{}: é`},
	}
	for _, tt := range tests {
		t.Run(tt.String(), func(t *testing.T) {
			checkScanSpans(t, tt)
		})
	}
}

// FuzzScanSpans checks that the spans ScanOrgs reports of a generated file
// decode, one by one, as the whole file does.
func FuzzScanSpans(f *testing.F) {
	f.Add(int64(1), uint8(1), uint16(0), uint8(1), false, false, false, false, "")
	f.Add(int64(2), uint8(3), uint16(25), uint8(5), true, false, false, false, "")
	f.Add(int64(3), uint8(2), uint16(64), uint8(64), true, true, false, false, "")
	f.Add(int64(4), uint8(6), uint16(400), uint8(63), true, false, true, false, "x-")
	f.Add(int64(5), uint8(4), uint16(33), uint8(8), false, true, true, true, `"\{[`)
	f.Add(int64(-6), uint8(5), uint16(129), uint8(32), true, false, false, true, "ä€😀")
	f.Fuzz(func(t *testing.T, seed int64, orgs uint8, users uint16, chunk uint8, grants, v1, badTypes, indent bool, prefix string) {
		c := spanCase{seed: seed, orgs: 1 + int(orgs)%6, users: int(users) % 401, chunk: 1 + int(chunk)%64,
			grants: grants, v1: v1, badTypes: badTypes, indent: indent, prefix: prefix}
		if err := c.options().Validate(); err != nil {
			t.Skip(err) // a prefix gen refuses
		}
		checkScanSpans(t, c)
	})
}

// checkScanSpans generates the file of c, scans it and checks that each org,
// each chunk and the org's member spans decode as the whole file does.
func checkScanSpans(t testing.TB, c spanCase) {
	t.Helper()
	var buf bytes.Buffer
	if err := gen.Write(&buf, c.options()); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	if c.indent {
		v := jsontext.Value(file)
		if err := v.Indent(jsontext.WithIndent("  ")); err != nil {
			t.Fatalf("indent: %v", err)
		}
		file = v
	}

	want, err := decodeFile(file, c.v1)
	if err != nil {
		t.Fatalf("decode the whole file: %v", err)
	}
	// ScanOrgs checks the ids in memory, or the split of a file passes them
	// to Define (the database): the layouts must not depend on which.
	opts := importdata.ScanOptions{ChunkSize: c.chunk, Defines: true, V1: c.v1}
	layouts := scanLayouts(t, file, opts)
	var defs []importdata.Definition
	opts.Define = func(d importdata.Definition) error {
		defs = append(defs, d)
		return nil
	}
	if diff := gocmp.Diff(layouts, scanLayouts(t, file, opts)); diff != "" {
		t.Errorf("layouts with Define differ from those without (-without +with):\n%s", diff)
	}
	if diff := gocmp.Diff(definitions(want), defs); diff != "" {
		t.Errorf("definitions (-want +got):\n%s", diff)
	}
	if len(layouts) != len(want) {
		t.Fatalf("scanned %d orgs, the file has %d", len(layouts), len(want))
	}
	dec := decoders(c.v1)
	for i, l := range layouts {
		w := want[i]
		if l.Index != i || l.OrgID != w.OrgID {
			t.Errorf("orgs[%d]: layout Index %d OrgID %q, want %d %q", i, l.Index, l.OrgID, i, w.OrgID)
		}
		if l.Start < 0 || l.Start > l.End || l.End > int64(len(file)) {
			t.Fatalf("orgs[%d]: span [%d, %d) outside the file of %d bytes", i, l.Start, l.End, len(file))
		}
		if i > 0 && l.Start < layouts[i-1].End {
			t.Errorf("orgs[%d]: starts at %d, before orgs[%d] ends at %d", i, l.Start, i-1, layouts[i-1].End)
		}
		got, err := dec.org(file[l.Start:l.End], nil)
		if err != nil {
			t.Fatalf("orgs[%d]: decode [%d, %d): %v", i, l.Start, l.End, err)
		}
		if diff := diffOrgs(w, got); diff != "" {
			t.Errorf("orgs[%d]: its bytes decode differently (-want +got):\n%s", i, diff)
		}
		checkArrays(t, c, file, l, w, dec)
		checkMembers(t, file, l, w, dec)
	}
}

// scanLayouts scans file with opts and returns the layouts of its orgs.
func scanLayouts(t testing.TB, file []byte, opts importdata.ScanOptions) []importdata.OrgLayout {
	t.Helper()
	var layouts []importdata.OrgLayout
	if err := importdata.ScanOrgs(bytes.NewReader(file), opts, func(o importdata.OrgLayout) error {
		layouts = append(layouts, o)
		return nil
	}); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return layouts
}

// definitions returns the ids that the orgs of a generated file define,
// in file order: those of its users and projects (gen writes no other
// kind that defines an id) that decode.
func definitions(orgs []*importdata.DataOrg) []importdata.Definition {
	var out []importdata.Definition
	for i, o := range orgs {
		add := func(field string, j int, kind, key string) {
			if key != "" {
				out = append(out, importdata.Definition{Org: i, Path: fmt.Sprintf("orgs[%d].%s[%d]", i, field, j), Kind: kind, Key: key})
			}
		}
		for j, u := range o.HumanUsers {
			if u.Err == nil {
				add("humanUsers", j, "user id", u.V.UserID)
			}
		}
		for j, p := range o.Projects {
			if p.Err == nil {
				add("projects", j, "project id", p.V.ProjectID)
			}
		}
	}
	return out
}

// decodeFile decodes a whole generated file as the orgs it holds (v1 ones
// converted as units convert them).
func decodeFile(file []byte, v1 bool) ([]*importdata.DataOrg, error) {
	var out []*importdata.DataOrg
	if v1 {
		var d importdata.ImportDataOrgV1
		if err := importdata.Unmarshal(file, &d); err != nil {
			return nil, err
		}
		for i, o := range d.Orgs {
			if o.Err != nil {
				return nil, fmt.Errorf("orgs[%d]: %w", i, o.Err)
			}
			out = append(out, o.V.ToV2())
		}
		return out, nil
	}
	var d importdata.ImportDataOrg
	if err := importdata.Unmarshal(file, &d); err != nil {
		return nil, err
	}
	for i, o := range d.Orgs {
		if o.Err != nil {
			return nil, fmt.Errorf("orgs[%d]: %w", i, o.Err)
		}
		out = append(out, &o.V)
	}
	return out, nil
}

// orgDecoders are the decoders a unit uses (store's decodeUnit) for one
// payload version.
type orgDecoders struct {
	v1    bool
	org   func(raw []byte, fields map[string]bool) (*importdata.DataOrg, error)
	chunk func(raw []byte, field string) (*importdata.DataOrg, error)
}

func decoders(v1 bool) orgDecoders {
	if v1 {
		return orgDecoders{true, importdata.DecodeOrgV1, importdata.DecodeChunkV1}
	}
	return orgDecoders{false, importdata.DecodeOrg, importdata.DecodeChunk}
}

// checkArrays checks the org's array layouts: counts, chunks that cut each
// array in order, and chunks that decode to the array's elements.
func checkArrays(t testing.TB, c spanCase, file []byte, l importdata.OrgLayout, want *importdata.DataOrg, dec orgDecoders) {
	t.Helper()
	wv := reflect.ValueOf(want).Elem()
	for _, f := range orgFields {
		if !f.array {
			continue
		}
		n := wv.Field(f.index).Len()
		a := l.Arrays[f.name]
		switch {
		case a == nil && n > 0:
			t.Errorf("orgs[%d].%s: no layout, want %d elements", l.Index, f.name, n)
		case a != nil && a.Count != n:
			t.Errorf("orgs[%d].%s: layout counts %d elements, want %d", l.Index, f.name, a.Count, n)
		}
	}
	for name, a := range l.Arrays {
		f, ok := orgFields[importdata.MemberKey(name)]
		if !ok || f.name != name || !f.array {
			t.Errorf("orgs[%d]: layout of %q, not an entity array of DataOrg", l.Index, name)
			continue
		}
		if (a.Count > c.chunk) != (len(a.Chunks) > 0) {
			t.Errorf("orgs[%d].%s: %d elements in %d chunks of %d", l.Index, name, a.Count, len(a.Chunks), c.chunk)
		}
		if len(a.Chunks) == 0 {
			continue
		}
		span := l.Members[importdata.MemberKey(name)]
		all := reflect.Zero(wv.Field(f.index).Type())
		next := 0
		for k, ch := range a.Chunks {
			if ch.First != next || ch.Count < 1 || ch.Count > c.chunk || ch.Count < c.chunk && k < len(a.Chunks)-1 {
				t.Errorf("orgs[%d].%s: chunk %d is %+v after %d elements (chunk size %d)", l.Index, name, k, ch, next, c.chunk)
			}
			if ch.Start < span.Start || ch.End > span.End || ch.Start > ch.End {
				t.Fatalf("orgs[%d].%s: chunk %d [%d, %d) outside the member [%d, %d)", l.Index, name, k, ch.Start, ch.End, span.Start, span.End)
			}
			if k > 0 && ch.Start < a.Chunks[k-1].End {
				t.Errorf("orgs[%d].%s: chunk %d starts at %d, before chunk %d ends", l.Index, name, k, ch.Start, k-1)
			}
			next += ch.Count
			got, err := dec.chunk(file[ch.Start:ch.End], name)
			if err != nil {
				t.Fatalf("orgs[%d].%s: decode chunk %d [%d, %d): %v", l.Index, name, k, ch.Start, ch.End, err)
			}
			part := reflect.ValueOf(got).Elem().Field(f.index)
			if part.Len() != ch.Count {
				t.Errorf("orgs[%d].%s: chunk %d decodes to %d elements, want %d", l.Index, name, k, part.Len(), ch.Count)
			}
			all = reflect.AppendSlice(all, part)
		}
		if next != a.Count {
			t.Errorf("orgs[%d].%s: chunks hold %d elements, want %d", l.Index, name, next, a.Count)
		}
		if diff := diffOrgs(wv.Field(f.index).Interface(), all.Interface()); diff != "" {
			t.Errorf("orgs[%d].%s: chunks decode differently (-want +got):\n%s", l.Index, name, diff)
		}
	}
}

// checkMembers checks that the org's member spans, all of them joined,
// decode as the org, and that each member with orgId decodes as the org
// restricted to them, as a unit that reads only some members does.
func checkMembers(t testing.TB, file []byte, l importdata.OrgLayout, want *importdata.DataOrg, dec orgDecoders) {
	t.Helper()
	spans := make([]importdata.Span, 0, len(l.Members))
	for key, sp := range l.Members {
		if sp.Start < l.Start || sp.End > l.End || sp.Start > sp.End {
			t.Fatalf("orgs[%d]: member %s [%d, %d) outside the org [%d, %d)", l.Index, key, sp.Start, sp.End, l.Start, l.End)
		}
		spans = append(spans, sp)
	}
	joined := join(file, spans)
	got, err := dec.org(joined, nil)
	if err != nil {
		t.Fatalf("orgs[%d]: decode the joined members: %v\n%s", l.Index, err, clip(joined))
	}
	if diff := diffOrgs(want, got); diff != "" {
		t.Errorf("orgs[%d]: the joined members decode differently (-want +got):\n%s", l.Index, diff)
	}

	idSpan, hasID := l.Members[importdata.MemberKey("orgId")]
	wv := reflect.ValueOf(want).Elem()
	for key, sp := range l.Members {
		f, ok := orgFields[key]
		if !ok || key == importdata.MemberKey("orgId") {
			continue // a member DataOrg does not have, or orgId itself
		}
		if src := importdata.V1Sources(f.name); dec.v1 && !slices.Equal(src, []string{f.name}) {
			continue // converted from other v1 members (or none)
		}
		parts := []importdata.Span{sp}
		if hasID {
			parts = append(parts, idSpan)
		}
		got, err := dec.org(join(file, parts), map[string]bool{"orgId": true, f.name: true})
		if err != nil {
			t.Fatalf("orgs[%d]: decode the members orgId and %s: %v", l.Index, f.name, err)
		}
		only := reflect.New(wv.Type())
		only.Elem().FieldByName("OrgID").Set(wv.FieldByName("OrgID"))
		only.Elem().Field(f.index).Set(wv.Field(f.index))
		if diff := diffOrgs(only.Interface(), got); diff != "" {
			t.Errorf("orgs[%d]: the members orgId and %s decode differently (-want +got):\n%s", l.Index, f.name, diff)
		}
	}
}

// join joins the bytes of spans, in the order of the file, as a unit does
// (worker's memberSpans, store's JoinMembers).
func join(file []byte, spans []importdata.Span) []byte {
	spans = slices.SortedFunc(slices.Values(spans), func(a, b importdata.Span) int { return cmp.Compare(a.Start, b.Start) })
	parts := make([][]byte, len(spans))
	for i, sp := range spans {
		parts[i] = file[sp.Start:sp.End]
	}
	return importdata.JoinMembers(parts)
}

// clip shortens b for an error message.
func clip(b []byte) []byte {
	if len(b) > 2000 {
		return append(b[:2000:2000], "..."...)
	}
	return b
}

// diffOrgs returns the differences of want and got as cmp.Diff reports
// them, "" when they are equal. reflect.DeepEqual first, much faster than
// cmp, keeps the fuzzer fast: the values hold thousands of elements.
func diffOrgs(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return gocmp.Diff(want, got, equateErrors)
}

// equateErrors compares errors by their messages: decoding the same bytes
// twice gives equal errors, not the same ones.
var equateErrors = gocmp.Comparer(func(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
})

// orgField is a member of DataOrg: its canonical JSON name, field index and
// whether it is an entity array.
type orgField struct {
	name  string
	index int
	array bool
}

// orgFields are the members of DataOrg by MemberKey.
var orgFields = func() map[string]orgField {
	m := map[string]orgField{}
	typ := reflect.TypeFor[importdata.DataOrg]()
	for i := range typ.NumField() {
		sf := typ.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		array := strings.HasPrefix(sf.Type.Name(), "Items[")
		m[importdata.MemberKey(name)] = orgField{name: name, index: i, array: array}
	}
	return m
}()
