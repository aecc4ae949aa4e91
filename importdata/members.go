package importdata

import (
	"bytes"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// This file reads members of an org that DataOrg does not hold (kinds that
// zimport does not import yet), so that they can be reported instead of
// being dropped. It reads them loosely: it never fails on what the decoding
// of DataOrg accepts.

// Element is one element of a member read loosely: the scalar members of an
// object, by normalized name, as text.
type Element map[string]string

// Get returns the scalar member name of e as text: a string unquoted, a
// number or boolean as written; "" when e has no such scalar member.
func (e Element) Get(name string) string { return e[normalizeName(name)] }

// newLooseDecoder returns a decoder of b that allows duplicate names and
// invalid UTF-8, which DecodeOrg and DecodeChunk leave to the elements.
func newLooseDecoder(b []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
}

// Members reads the members names (canonical JSON names, matched as
// DecodeOrg matches names) of raw, the bytes of an org object, and returns
// their elements by canonical name: each element of an array, or the value
// of another member (an object such as a policy) as one element. Members
// that are absent or null have none.
func Members(raw []byte, names []string) (map[string][]Element, error) {
	want := make(map[string]string, len(names))
	for _, n := range names {
		want[normalizeName(n)] = n
	}
	dec := newLooseDecoder(trimLeading(raw))
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	out := map[string][]Element{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name, ok := want[normalizeName(tok.String())]
		switch {
		case !ok:
			err = dec.SkipValue()
		case dec.PeekKind() == 'n':
			_, err = dec.ReadToken()
		case dec.PeekKind() == '[':
			err = eachElement(dec, func(int) error {
				e, err := element(dec)
				out[name] = append(out[name], e)
				return err
			})
		default:
			var e Element
			e, err = element(dec)
			out[name] = append(out[name], e)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Present returns the indexes of the elements of the entity array field
// that hold a value other than null, false, 0, "", [] or {} at path inside
// them, e.g. Present(raw, false, "humanUsers", "user", "idps"). raw is an
// org object or, with chunk, the bytes of a Chunk of field; the indexes
// count from the first element of raw.
func Present(raw []byte, chunk bool, field string, path ...string) ([]int, error) {
	raw = trimLeading(raw)
	if len(path) > 0 && !mayHold(raw, path[len(path)-1]) {
		return nil, nil
	}
	if chunk {
		raw = append(append([]byte{'['}, raw...), ']')
	} else {
		var err error
		if raw, err = member(raw, field); raw == nil || err != nil {
			return nil, err
		}
	}
	dec := newLooseDecoder(raw)
	if dec.PeekKind() != '[' {
		return nil, nil
	}
	var out []int
	err := eachElement(dec, func(i int) error {
		ok, err := has(dec, path)
		if ok {
			out = append(out, i)
		}
		return err
	})
	return out, err
}

// member returns the value of the member name of the object raw, nil when
// there is none.
func member(raw []byte, name string) (jsontext.Value, error) {
	dec := newLooseDecoder(raw)
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if normalizeName(tok.String()) == normalizeName(name) {
			v, err := dec.ReadValue()
			return v.Clone(), err
		}
		if err := dec.SkipValue(); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// eachElement reads the array that dec is at, calling read, which must
// consume the element, with the index of each element.
func eachElement(dec *jsontext.Decoder, read func(i int) error) error {
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for i := 0; dec.PeekKind() != ']'; i++ {
		if err := read(i); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// element reads one value: the scalar members of an object, nothing of
// another value.
func element(dec *jsontext.Decoder) (Element, error) {
	e := Element{}
	if dec.PeekKind() != '{' {
		return e, dec.SkipValue()
	}
	if _, err := dec.ReadToken(); err != nil {
		return e, err
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return e, err
		}
		name := normalizeName(tok.String()) // before the next read voids tok
		switch dec.PeekKind() {
		case '"', '0', 't', 'f':
			v, err := dec.ReadToken()
			if err != nil {
				return e, err
			}
			e[name] = v.String()
		default:
			if err := dec.SkipValue(); err != nil {
				return e, err
			}
		}
	}
	_, err := dec.ReadToken()
	return e, err
}

// has reads one value and reports whether it holds a value other than
// null, false, 0, "", [] or {} at path.
func has(dec *jsontext.Decoder, path []string) (bool, error) {
	if len(path) == 0 {
		v, err := dec.ReadValue()
		if err != nil {
			return false, err
		}
		switch v.Kind() {
		case 'n', 'f':
			return false, nil
		case '0':
			f, err := strconv.ParseFloat(string(v), 64)
			return err != nil || f != 0, nil
		case '"', '[', '{':
			return len(bytes.TrimSpace(v[1:len(v)-1])) > 0, nil
		}
		return true, nil
	}
	if dec.PeekKind() != '{' {
		return false, dec.SkipValue()
	}
	if _, err := dec.ReadToken(); err != nil {
		return false, err
	}
	found := false
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return false, err
		}
		if normalizeName(name.String()) != normalizeName(path[0]) {
			if err := dec.SkipValue(); err != nil {
				return false, err
			}
			continue
		}
		ok, err := has(dec, path[1:])
		if err != nil {
			return false, err
		}
		found = found || ok
	}
	_, err := dec.ReadToken()
	return found, err
}

// mayHold reports whether raw may hold a member name: whether its bytes
// hold name ignoring case, '_' and '-', or an escape (\u) that could spell
// it. It is much faster than decoding.
func mayHold(raw []byte, name string) bool {
	if bytes.Contains(raw, []byte(`\u`)) {
		return true
	}
	n := normalizeName(name)
	for i := range raw {
		j := 0
		for k := i; k < len(raw) && j < len(n); k++ {
			c := raw[k]
			if j > 0 && (c == '_' || c == '-') {
				continue
			}
			if c|0x20 != n[j] { // ASCII lower case; a false match only costs time
				break
			}
			j++
		}
		if j == len(n) {
			return true
		}
	}
	return false
}
