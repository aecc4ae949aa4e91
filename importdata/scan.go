package importdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
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
}

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

// orgFields maps normalized member names of DataOrg to their canonical JSON
// names and types.
var orgFields = func() map[string]orgField {
	m := map[string]orgField{}
	t := reflect.TypeFor[DataOrg]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		_, isArray := reflect.Zero(f.Type).Interface().(elementChecker)
		m[normalizeName(name)] = orgField{name: name, typ: f.Type, array: isArray}
	}
	return m
}()

type orgField struct {
	name  string
	typ   reflect.Type
	array bool
}

// elementChecker is implemented by Items: it decodes one element strictly.
type elementChecker interface {
	checkElement(raw []byte) error
}

func (Items[T]) checkElement(raw []byte) error {
	var v T
	return Unmarshal(raw, &v)
}

// ScanOptions tune ScanOrgs.
type ScanOptions struct {
	// ChunkSize is the number of elements per chunk of a large array.
	ChunkSize int
	// Strict decodes every member into its Go type and fails with the path of
	// the first value of the wrong type (used for inline data at the API).
	Strict bool
}

// ScanOrgs streams a {"orgs":[...]} payload and calls visit once per org, in
// order, with its layout. It never holds more than one array element in
// memory. A payload of the wrong shape yields a *ShapeError.
func ScanOrgs(r io.Reader, opts ScanOptions, visit func(OrgLayout) error) error {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 1000
	}
	dec := jsontext.NewDecoder(r)
	s := scanner{dec: dec, opts: opts}
	if err := s.payload(visit); err != nil {
		return s.describe(err)
	}
	return nil
}

type scanner struct {
	dec  *jsontext.Decoder
	opts ScanOptions
}

func (s *scanner) describe(err error) error {
	var se *ShapeError
	if errors.As(err, &se) {
		return err
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return &ShapeError{Msg: fmt.Sprintf("not valid JSON at byte %d: %v", syn.ByteOffset, syn.Err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &ShapeError{Msg: fmt.Sprintf("not valid JSON: unexpected end of input at byte %d", s.dec.InputOffset())}
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
	seen := false
	for s.dec.PeekKind() != '}' {
		name, err := s.dec.ReadToken()
		if err != nil {
			return err
		}
		if normalizeName(name.String()) != "orgs" {
			if err := s.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if seen {
			return &ShapeError{Msg: "duplicate member \"orgs\""}
		}
		seen = true
		if err := s.orgs(visit); err != nil {
			return err
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return err
	}
	if _, err := s.dec.ReadToken(); err != io.EOF {
		if err == nil {
			return &ShapeError{Msg: fmt.Sprintf("unexpected data after the payload at byte %d", s.dec.InputOffset())}
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
		if err := visit(org); err != nil {
			return err
		}
	}
	_, err := s.dec.ReadToken()
	return err
}

func (s *scanner) org(index int, start int64) (OrgLayout, error) {
	org := OrgLayout{Index: index, Start: start, Arrays: map[string]*ArrayLayout{}}
	if _, err := s.dec.ReadToken(); err != nil {
		return org, err
	}
	path := fmt.Sprintf("orgs[%d]", index)
	for s.dec.PeekKind() != '}' {
		tok, err := s.dec.ReadToken()
		if err != nil {
			return org, err
		}
		f, known := orgFields[normalizeName(tok.String())]
		switch {
		case !known:
			err = s.dec.SkipValue()
		case f.array && s.dec.PeekKind() == '[':
			org.Arrays[f.name], err = s.array(path+"."+f.name, f)
		case f.name == "orgId" && s.dec.PeekKind() == '"':
			var v jsontext.Token
			v, err = s.dec.ReadToken()
			org.OrgID = v.String()
		default:
			err = s.value(path+"."+f.name, f)
		}
		if err != nil {
			return org, err
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
	raw, err := s.dec.ReadValue()
	if err != nil || !s.opts.Strict {
		return err
	}
	if err := Unmarshal(raw, reflect.New(f.typ).Interface()); err != nil {
		return &ShapeError{Msg: DescribeError(path, err)}
	}
	return nil
}

func (s *scanner) array(path string, f orgField) (*ArrayLayout, error) {
	a := &ArrayLayout{}
	if _, err := s.dec.ReadToken(); err != nil {
		return nil, err
	}
	checker, _ := reflect.Zero(f.typ).Interface().(elementChecker)
	cur := Chunk{Start: s.dec.InputOffset()}
	for s.dec.PeekKind() != ']' {
		raw, err := s.dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if s.opts.Strict {
			if raw.Kind() != '{' {
				return nil, &ShapeError{Msg: fmt.Sprintf("%s[%d]: expected an object, got %s", path, a.Count, kindName(raw.Kind()))}
			}
			if err := checker.checkElement(raw); err != nil {
				return nil, &ShapeError{Msg: DescribeError(fmt.Sprintf("%s[%d]", path, a.Count), err)}
			}
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

// DecodeOrg decodes an org object (the bytes of an OrgLayout) keeping only the
// members named in fields (canonical JSON names); nil keeps all.
func DecodeOrg(raw []byte, fields map[string]bool) (*DataOrg, error) {
	raw = trimLeading(raw)
	org := &DataOrg{}
	if fields == nil {
		return org, Unmarshal(raw, org)
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	enc := jsontext.NewEncoder(io.Discard)
	var buf bytes.Buffer
	enc.Reset(&buf)
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return nil, err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		f, ok := orgFields[normalizeName(name.String())]
		if !ok || !fields[f.name] {
			if err := dec.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if err := enc.WriteToken(jsontext.String(f.name)); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(v); err != nil {
			return nil, err
		}
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return nil, err
	}
	return org, Unmarshal(buf.Bytes(), org)
}

// DecodeChunk decodes the elements of a Chunk of the array member field into
// an otherwise empty DataOrg.
func DecodeChunk(raw []byte, field string) (*DataOrg, error) {
	f, ok := orgFields[normalizeName(field)]
	if !ok || !f.array {
		return nil, fmt.Errorf("decode chunk: %q is not an entity array", field)
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) + len(field) + 8)
	buf.WriteString(`{"` + f.name + `":[`)
	buf.Write(trimLeading(raw))
	buf.WriteString(`]}`)
	org := &DataOrg{}
	return org, Unmarshal(buf.Bytes(), org)
}

// ArrayFields lists the canonical names of DataOrg's entity arrays.
func ArrayFields() []string {
	var out []string
	for _, f := range orgFields {
		if f.array {
			out = append(out, f.name)
		}
	}
	return out
}

func trimLeading(b []byte) []byte {
	return bytes.TrimLeft(b, " \t\r\n,")
}
