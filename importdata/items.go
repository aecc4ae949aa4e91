package importdata

import (
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
)

// Item is one element of an entity array: its decoded value, or the reason it
// could not be decoded. A bad element is an entity error; its siblings go on.
type Item[T any] struct {
	V   T
	Err error
}

// Items is an entity array whose elements decode independently.
type Items[T any] []Item[T]

// UnmarshalJSONFrom decodes the array element by element.
func (s *Items[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		*s = nil
		return err
	case '[':
	default:
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		return fmt.Errorf("expected an array, got %s", kindName(v.Kind()))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	*s = (*s)[:0]
	for dec.PeekKind() != ']' {
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		var it Item[T]
		if raw.Kind() != '{' {
			it.Err = fmt.Errorf("expected an object, got %s", kindName(raw.Kind()))
		} else if err := Unmarshal(raw, &it.V); err != nil {
			it.Err = err
		}
		*s = append(*s, it)
	}
	_, err := dec.ReadToken()
	return err
}
