package importdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// OrgLayout is where one org of a payload lies in the stream, found without
// decoding it: the byte range of the org object and of the chunks of its
// large arrays.
type OrgLayout struct {
	// Index is the org's position in "orgs", from 0.
	Index int
	// OrgID is the org's "orgId" member, empty when absent or not a string.
	OrgID string
	// Start and End delimit the org object in the stream (End exclusive).
	// Start may point at whitespace or a comma before the object.
	Start, End int64
	// Arrays describes the org's entity arrays by canonical JSON field name.
	Arrays map[string]*ArrayLayout
	// Members are the byte spans of the org's members ("name": value, maybe
	// after whitespace or a comma) by normalized name (see MemberKey), known
	// to DataOrg or not, so that a unit can read just the members it needs.
	// Members that are null are left out, as if absent.
	Members map[string]Span
}

// Span is a byte range of the stream (End exclusive).
type Span struct{ Start, End int64 }

// MemberKey returns the key in OrgLayout.Members of a member name: names
// that decode as the same member have the same key.
func MemberKey(name string) string { return normalizeName(name) }

// ArrayLayout is one entity array of an org.
type ArrayLayout struct {
	// Count is the number of elements.
	Count int
	// Chunks cut the array into runs of at most the chunk size; empty when the
	// array is not larger than one chunk.
	Chunks []Chunk
}

// Chunk is a run of consecutive array elements.
type Chunk struct {
	// First is the index of the first element; Count the number of elements.
	First, Count int
	// Start and End delimit the elements in the stream (End exclusive). Start
	// may point at whitespace or a comma before the first element.
	Start, End int64
}

// ShapeError is a payload whose structure is wrong (not JSON, not
// {"orgs":[...]}): the whole import cannot run.
type ShapeError struct{ Msg string }

func (e *ShapeError) Error() string { return e.Msg }

// orgFields and orgFieldsV1 map normalized member names of DataOrg and
// DataOrgV1 to their canonical JSON names and types.
var (
	orgFields   = fieldsOf[DataOrg]()
	orgFieldsV1 = fieldsOf[DataOrgV1]()
)

// fieldsOf maps the normalized member names of the struct T to their
// canonical names and types. The members of a struct T embeds are T's
// unless a field of T hides them: reflect.VisibleFields applies Go's rule,
// JSON's too where the hiding field has the JSON name of the hidden one.
// Fields of type absent are not members.
func fieldsOf[T any]() map[string]orgField {
	m := map[string]orgField{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[T]()) {
		if f.Anonymous || f.Type == reflect.TypeFor[absent]() {
			continue // an embedded struct (its fields follow) or a hidden member
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		_, isArray := reflect.Zero(f.Type).Interface().(elementChecker)
		m[normalizeName(name)] = orgField{name: name, typ: f.Type, array: isArray}
	}
	return m
}

type orgField struct {
	name  string
	typ   reflect.Type
	array bool
}

// elementChecker is implemented by Items: it returns a pointer to a new
// element, for decoding one element strictly.
type elementChecker interface {
	newElement() any
}

func (Items[T]) newElement() any { return new(T) }

// ScanOptions tune ScanOrgs.
type ScanOptions struct {
	// ChunkSize is the number of elements per chunk of a large array.
	ChunkSize int
	// Offset is where the payload starts in the document it is part of; it
	// is added to the byte offsets in error messages (not in layouts).
	Offset int64
	// Strict decodes every member into its Go type and fails with the path of
	// the first value of the wrong type, of the first string (member names
	// included) holding the NUL character, which PostgreSQL cannot store, or
	// of a member given twice under different spellings (used for inline
	// data at the API).
	Strict bool
	// Defines, without Strict, checks that no entity id is given in two orgs
	// (as Strict does), decoding the elements of entity arrays; an element
	// that does not decode is left to its unit, which reports it (used for
	// import files, which are checked by the split). With Define set, the
	// ids are passed to it instead of being checked in memory.
	Defines bool
	// Define receives, in Defines mode, every id an element defines.
	Define func(Definition) error
	// Claim, when set, receives every value unique in the instance that an
	// org name, a domain or a user claims (see Claim), in payload order.
	Claim func(Claim) error
	// V1 reads a v1 payload (dataOrgsv1): the members of DataOrgV1 are the
	// known ones, type-checked in strict mode. Layouts name members as v1
	// does (iamPolicy, secondFactors, ...).
	V1 bool
}

// ScanOrgs streams a {"orgs":[...]} payload and calls visit once per org, in
// order, with its layout. It never holds more than one array element in
// memory. A payload of the wrong shape yields a *ShapeError.
func ScanOrgs(r io.Reader, opts ScanOptions, visit func(OrgLayout) error) error {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 1000
	}
	rec := &readErrors{r: r, base: opts.Offset}
	dec := jsontext.NewDecoder(rec)
	rec.dec = dec
	s := scanner{dec: dec, opts: opts, fields: orgFields, defined: definitions{}}
	if opts.V1 {
		s.fields = orgFieldsV1
	}
	if err := s.payload(visit); err != nil {
		if rec.err != nil {
			return rec.err // the stream failed, not the JSON
		}
		return s.describe(err)
	}
	return nil
}

// MaxPending is the most bytes the scanner reads ahead of what it has
// decoded: the largest single value (an entity, a member that is not an
// entity array, a string) or run of whitespace of a payload. Without it, a
// file of one huge string or of gigabytes of spaces would be held in memory.
const MaxPending = 32 << 20

// maxRead is the most one read of the scanner asks of its reader.
const maxRead = 1 << 20

// readErrors records the first error of r other than io.EOF, and fails the
// read when the decoder holds more than MaxPending bytes it has not yet
// decoded.
type readErrors struct {
	r    io.Reader
	dec  *jsontext.Decoder
	base int64 // Offset, for messages
	read int64
	err  error
}

func (r *readErrors) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if at := r.dec.InputOffset(); r.read-at > MaxPending {
		r.err = &ShapeError{Msg: fmt.Sprintf("the value or whitespace at byte %d is longer than %d MiB; no single entity, member or string of the data may be",
			r.base+at, MaxPending>>20)}
		return 0, r.err
	}
	if len(p) > maxRead {
		p = p[:maxRead] // so that the check above runs every MiB
	}
	n, err := r.r.Read(p)
	r.read += int64(n)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

type scanner struct {
	dec    *jsontext.Decoder
	opts   ScanOptions
	fields map[string]orgField // orgFields or orgFieldsV1
	// orgIndex is the index of the org being read; defined, in strict mode, the
	// keys the orgs read so far define.
	orgIndex int
	defined  definitions
	// twice is the first id of the org being read that another org defined.
	twice error
}

func (s *scanner) describe(err error) error {
	var se *ShapeError
	if errors.As(err, &se) {
		return err
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return &ShapeError{Msg: fmt.Sprintf("not valid JSON at byte %d: %v", s.opts.Offset+syn.ByteOffset, syn.Err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &ShapeError{Msg: fmt.Sprintf("not valid JSON: unexpected end of input at byte %d", s.opts.Offset+s.dec.InputOffset())}
	}
	return err
}

func (s *scanner) payload(visit func(OrgLayout) error) error {
	if k := s.dec.PeekKind(); k != '{' {
		if k == 0 {
			_, err := s.dec.ReadToken()
			return err
		}
		return &ShapeError{Msg: fmt.Sprintf("expected an object {\"orgs\": [...]}, got %s", kindName(k))}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return err
	}
	seen := ""
	for s.dec.PeekKind() != '}' {
		name, err := s.name("")
		if err != nil {
			return err
		}
		if normalizeName(name) != "orgs" {
			if err := s.skip(name); err != nil {
				return err
			}
			continue
		}
		if seen != "" {
			return &ShapeError{Msg: sameMember("", seen, name)}
		}
		seen = name
		if err := s.orgs(visit); err != nil {
			return err
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return err
	}
	if _, err := s.dec.ReadToken(); err != io.EOF {
		if err == nil {
			return &ShapeError{Msg: fmt.Sprintf("unexpected data after the payload at byte %d", s.opts.Offset+s.dec.InputOffset())}
		}
		return err
	}
	return nil
}

func (s *scanner) orgs(visit func(OrgLayout) error) error {
	switch k := s.dec.PeekKind(); k {
	case 'n':
		_, err := s.dec.ReadToken()
		return err
	case '[':
	default:
		return &ShapeError{Msg: fmt.Sprintf("orgs: expected an array, got %s", kindName(k))}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return err
	}
	first := map[string]int{} // org id → index of the org that has it
	for i := 0; s.dec.PeekKind() != ']'; i++ {
		start := s.dec.InputOffset()
		if k := s.dec.PeekKind(); k != '{' {
			if k == 0 {
				_, err := s.dec.ReadToken()
				return err
			}
			return &ShapeError{Msg: fmt.Sprintf("orgs[%d]: expected an object, got %s", i, kindName(k))}
		}
		org, err := s.org(i, start)
		if err != nil {
			return err
		}
		// Orgs are imported in parallel: two with one id would race for it.
		if j, ok := first[org.OrgID]; ok && org.OrgID != "" {
			return s.atOrg(&ShapeError{Msg: fmt.Sprintf("orgs[%d].orgId: %q is the id of orgs[%d] too; give each org once", i, org.OrgID, j)}, start)
		}
		if s.twice != nil {
			return s.atOrg(s.twice, start)
		}
		first[org.OrgID] = i
		if err := visit(org); err != nil {
			return err
		}
	}
	_, err := s.dec.ReadToken()
	return err
}

// atOrg adds, for a file (not strict), the byte offset of the org that
// the problem se is in, since the file cannot be shown to the client.
func (s *scanner) atOrg(se error, start int64) error {
	var e *ShapeError
	if s.opts.Strict || !errors.As(se, &e) {
		return se
	}
	return InOrgAt(e, s.opts.Offset+start)
}

func (s *scanner) org(index int, start int64) (OrgLayout, error) {
	s.orgIndex = index
	org := OrgLayout{Index: index, Start: start, Arrays: map[string]*ArrayLayout{}, Members: map[string]Span{}}
	if _, err := s.dec.ReadToken(); err != nil {
		return org, err
	}
	path := fmt.Sprintf("orgs[%d]", index)
	seen := map[string]string{} // canonical name → name as sent
	for s.dec.PeekKind() != '}' {
		memberStart := s.dec.InputOffset()
		name, err := s.name(path)
		if err != nil {
			return org, err
		}
		key := normalizeName(name)
		null := s.dec.PeekKind() == 'n'
		f, known := s.fields[key]
		if known {
			if first, dup := seen[f.name]; dup {
				return org, &ShapeError{Msg: sameMember(path, first, name)}
			}
			seen[f.name] = name
		}
		switch {
		case !known:
			err = s.skip(path + "." + name)
		case f.array && s.dec.PeekKind() == '[':
			org.Arrays[f.name], err = s.array(path+"."+f.name, f)
		case f.name == "orgId" && s.dec.PeekKind() == '"':
			var raw jsontext.Value
			if raw, err = s.read(path + ".orgId"); err == nil {
				err = Unmarshal(raw, &org.OrgID)
			}
			if err == nil && strings.ContainsRune(org.OrgID, 0) {
				err = &ShapeError{Msg: withPath(path+".orgId", nulMsg)} // it names the org everywhere
			}
		case f.array && !s.opts.Strict && s.dec.PeekKind() != 'n':
			// In strict mode the value's decoding says this; a file's
			// entity list that is not a list must not be skipped quietly.
			k := s.dec.PeekKind()
			err = s.dec.SkipValue()
			if err == nil {
				err = &ShapeError{Msg: fmt.Sprintf("%s.%s: expected an array, got %s", path, f.name, kindName(k))}
			}
		default:
			err = s.value(path+"."+f.name, f)
		}
		if err != nil {
			return org, err
		}
		if !null {
			org.Members[key] = Span{memberStart, s.dec.InputOffset()}
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return org, err
	}
	org.End = s.dec.InputOffset()
	return org, nil
}

// value reads a non-array member, type-checking it in strict mode.
func (s *scanner) value(path string, f orgField) error {
	raw, err := s.read(path)
	if err == nil {
		err = s.claims(f.name, -1, raw, nil)
	}
	if err != nil || !s.opts.Strict {
		return err
	}
	v := reflect.New(f.typ).Interface()
	if c, ok := v.(valueChecker); ok {
		v = c.newValue() // a Policy keeps its errors; decode its value
	}
	return decodeStrict(path, raw, v)
}

// valueChecker is implemented by Policy: it returns a pointer to a new
// value of the member, for decoding it strictly.
type valueChecker interface {
	newValue() any
}

// name reads a member name of the object at path. In strict mode it must
// not hold NUL.
func (s *scanner) name(path string) (string, error) {
	raw, err := s.dec.ReadValue()
	if err != nil {
		return "", err
	}
	name, err := jsontext.AppendUnquote(nil, raw)
	if err != nil {
		return "", err
	}
	if s.opts.Strict && bytes.IndexByte(name, 0) >= 0 {
		return "", &ShapeError{Msg: withPath(path, fmt.Sprintf("a member name %s, at byte %d", nulMsg, s.opts.Offset+s.dec.InputOffset()-int64(len(raw))))}
	}
	return string(name), nil
}

// read reads the next value, at path. In strict mode none of its strings
// may hold NUL.
func (s *scanner) read(path string) (jsontext.Value, error) {
	raw, err := s.dec.ReadValue()
	if err != nil || !s.opts.Strict {
		return raw, err
	}
	return raw, nulError(path, s.opts.Offset+s.dec.InputOffset()-int64(len(raw)), raw)
}

// skip skips the next value, at path; in strict mode it is checked as by read.
func (s *scanner) skip(path string) error {
	if !s.opts.Strict {
		return s.dec.SkipValue()
	}
	_, err := s.read(path)
	return err
}

func (s *scanner) array(path string, f orgField) (*ArrayLayout, error) {
	a := &ArrayLayout{}
	if _, err := s.dec.ReadToken(); err != nil {
		return nil, err
	}
	checker, _ := reflect.Zero(f.typ).Interface().(elementChecker)
	// Only the elements of arrays of entities that define an id are decoded
	// to check ids.
	_, definesIDs := checker.newElement().(definer)
	defines := s.opts.Defines && definesIDs
	cur := Chunk{Start: s.dec.InputOffset()}
	for s.dec.PeekKind() != ']' {
		raw, err := s.dec.ReadValue()
		if err != nil {
			return nil, err
		}
		var decoded any // the element, when define decoded it
		if s.opts.Strict {
			elem := fmt.Sprintf("%s[%d]", path, a.Count)
			if raw.Kind() != '{' {
				return nil, &ShapeError{Msg: fmt.Sprintf("%s: expected an object, got %s", elem, kindName(raw.Kind()))}
			}
			if err := nulError(elem, s.opts.Offset+s.dec.InputOffset()-int64(len(raw)), raw); err != nil {
				return nil, err
			}
			v := checker.newElement()
			if err := decodeStrict(elem, raw, v); err != nil {
				return nil, err
			}
			if err := s.defined.add(elem, s.orgIndex, v); err != nil && s.twice == nil {
				s.twice = err // reported once the org's id is known to differ
			}
		} else if defines && raw.Kind() == '{' {
			if decoded, err = s.define(checker, raw, path, a.Count); err != nil {
				return nil, err
			}
		}
		if err := s.claims(f.name, a.Count, raw, decoded); err != nil {
			return nil, err
		}
		a.Count++
		cur.Count++
		if cur.Count == s.opts.ChunkSize {
			cur.End = s.dec.InputOffset()
			a.Chunks = append(a.Chunks, cur)
			cur = Chunk{First: a.Count, Start: cur.End}
		}
	}
	if cur.Count > 0 {
		cur.End = s.dec.InputOffset()
		a.Chunks = append(a.Chunks, cur)
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return nil, err
	}
	if a.Count <= s.opts.ChunkSize {
		a.Chunks = nil
	}
	return a, nil
}

// define records what the element raw, array[index], defines, when it decodes
// (one that does not is its unit's error): through opts.Define, or in
// memory, keeping the first id given twice. It returns the decoded element,
// nil when it does not decode.
func (s *scanner) define(checker elementChecker, raw jsontext.Value, array string, index int) (any, error) {
	v := checker.newElement()
	if Unmarshal(raw, v) != nil {
		return nil, nil
	}
	d, ok := definitionOf(v)
	if !ok || strings.ContainsRune(d.Key, 0) {
		return v, nil // an id with NUL is its entity's error: it defines nothing
	}
	path := fmt.Sprintf("%s[%d]", array, index)
	if s.opts.Define == nil {
		if err := s.defined.add(path, s.orgIndex, v); err != nil && s.twice == nil {
			s.twice = err
		}
		return v, nil
	}
	d.Org, d.Path = s.orgIndex, path
	return v, s.opts.Define(d)
}

// JoinMembers makes an org object of member spans' bytes (as OrgLayout.Members
// delimit them): the members that a unit needs, without the rest of the org.
func JoinMembers(parts [][]byte) []byte {
	n := 2
	for _, p := range parts {
		n += len(p) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, p := range parts {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, trimLeading(p)...)
	}
	return append(out, '}')
}

// DecodeOrg decodes an org object (the bytes of an OrgLayout) keeping only the
// members named in fields (canonical JSON names); nil keeps all.
func DecodeOrg(raw []byte, fields map[string]bool) (*DataOrg, error) {
	org := &DataOrg{}
	return org, decodeOrgInto(raw, fields, orgFields, org)
}

// decodeOrgInto decodes the org object raw into org, whose members known
// lists, keeping only the members named in fields; nil keeps all.
func decodeOrgInto(raw []byte, fields map[string]bool, known map[string]orgField, org any) error {
	raw = trimLeading(raw)
	if fields == nil {
		return Unmarshal(raw, org)
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	var buf bytes.Buffer
	enc := jsontext.NewEncoder(&buf)
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		f, ok := known[normalizeName(name.String())]
		if !ok || !fields[f.name] {
			if err := dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.String(f.name)); err != nil {
			return err
		}
		if err := enc.WriteValue(v); err != nil {
			return err
		}
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return err
	}
	return Unmarshal(buf.Bytes(), org)
}

// DecodeChunk decodes the elements of a Chunk of the array member field into
// an otherwise empty DataOrg.
func DecodeChunk(raw []byte, field string) (*DataOrg, error) {
	f, ok := orgFields[normalizeName(field)]
	if !ok || !f.array {
		return nil, fmt.Errorf("decode chunk: %q is not an entity array", field)
	}
	org := &DataOrg{}
	return org, decodeChunkInto(raw, f.name, org)
}

// decodeChunkInto decodes the elements of a Chunk of the array member name
// (canonical) into org.
func decodeChunkInto(raw []byte, name string, org any) error {
	var buf bytes.Buffer
	buf.Grow(len(raw) + len(name) + 8)
	buf.WriteString(`{"` + name + `":[`)
	buf.Write(trimLeading(raw))
	buf.WriteString(`]}`)
	return Unmarshal(buf.Bytes(), org)
}

func trimLeading(b []byte) []byte {
	return bytes.TrimLeft(b, " \t\r\n,")
}

// nulMsg is the problem of a string with the NUL character, which
// PostgreSQL text cannot store.
const nulMsg = `must not contain the NUL character (\u0000)`

// nulError returns a *ShapeError naming the first string of raw, the JSON
// value at path that starts at byte base, that holds the NUL character.
func nulError(path string, base int64, raw []byte) error {
	// JSON can only write NUL as \u0000; the walk tells it from "\\u0000".
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	p, isName, off, ok := findString(raw, func(_ jsontext.Pointer, s []byte, _ bool) bool {
		return bytes.IndexByte(s, 0) >= 0
	})
	if !ok {
		return nil
	}
	msg := nulMsg
	if isName {
		p, msg = p.Parent(), "a member name "+nulMsg
	}
	return &ShapeError{Msg: withPath(joinPath(path, pointerToPath(string(p))), fmt.Sprintf("%s, at byte %d", msg, base+off))}
}

// decodeStrict decodes raw, the JSON value at path, into v, and returns a
// *ShapeError saying where and what is wrong.
func decodeStrict(path string, raw []byte, v any) error {
	err := Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	// The decoder matches names ignoring case, '_' and '-': a member given
	// under two such spellings is a duplicate, reported by its second name.
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName) {
		parent, second := syn.JSONPointer.Parent(), syn.JSONPointer.LastToken()
		p, _, _, ok := findString(raw, func(p jsontext.Pointer, s []byte, isName bool) bool {
			return isName && p.Parent() == parent && normalizeName(string(s)) == normalizeName(second)
		})
		if ok {
			return &ShapeError{Msg: sameMember(joinPath(path, pointerToPath(string(parent))), p.LastToken(), second)}
		}
	}
	return &ShapeError{Msg: DescribeError(path, err)}
}

// sameMember is the problem of an object at path that gives a member twice,
// as first and as second.
func sameMember(path, first, second string) string {
	return withPath(path, fmt.Sprintf("%s and %s are the same member; give it once", first, second))
}

// withPath prefixes msg with "path: " unless path is empty.
func withPath(path, msg string) string {
	if path == "" {
		return msg
	}
	return path + ": " + msg
}

// findString walks raw, one JSON value, to the first string, member name or
// value, for which match is true, and returns its JSON pointer, whether it
// is a member name, and its byte offset in raw.
func findString(raw []byte, match func(p jsontext.Pointer, s []byte, isName bool) bool) (p jsontext.Pointer, isName bool, offset int64, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	for {
		switch dec.PeekKind() {
		case 0:
			return "", false, 0, false
		case '"':
			v, err := dec.ReadValue()
			if err != nil {
				return "", false, 0, false
			}
			s, err := jsontext.AppendUnquote(nil, v)
			kind, n := dec.StackIndex(dec.StackDepth())
			isName = kind == '{' && n%2 == 1
			if err == nil && match(dec.StackPointer(), s, isName) {
				return dec.StackPointer(), isName, dec.InputOffset() - int64(len(v)), true
			}
		default:
			if _, err := dec.ReadToken(); err != nil {
				return "", false, 0, false
			}
		}
	}
}

// maxNumberLen is the longest JSON number kept in jsonb.
const maxNumberLen = 100

// findUnstorableNumber returns the place of the first number in raw that
// PostgreSQL's jsonb may not store as given (its numeric type overflows,
// as for 1e1000000 or 1e-17000): see storableNumber.
func findUnstorableNumber(raw []byte) (jsontext.Pointer, bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	for {
		switch dec.PeekKind() {
		case 0:
			return "", false
		case '0':
			v, err := dec.ReadValue()
			if err != nil {
				return "", false
			}
			if !storableNumber(string(v)) {
				return dec.StackPointer(), true
			}
		default:
			if _, err := dec.ReadToken(); err != nil {
				return "", false
			}
		}
	}
}

// storableNumber reports whether a JSON number is at most maxNumberLen
// characters and a finite float64 that is not 0 unless it is written as
// 0: within what PostgreSQL's numeric stores.
func storableNumber(num string) bool {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || len(num) > maxNumberLen {
		return false
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(num), "e")
	return f != 0 || !strings.ContainsAny(mantissa, "123456789")
}
