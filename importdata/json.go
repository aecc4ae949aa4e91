package importdata

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeOptions are the proto3-JSON input rules: lowerCamelCase or snake_case
// names (case, dashes and underscores ignored), unknown members ignored.
var decodeOptions = json.JoinOptions(
	json.MatchCaseInsensitiveNames(true),
	json.RejectUnknownMembers(false),
)

// Unmarshal decodes one JSON value into v with the proto3-JSON input rules.
func Unmarshal(data []byte, v any) error {
	return json.Unmarshal(data, v, decodeOptions)
}

// clipLen is the most bytes of client input that a message quotes.
const clipLen = 64

// Clip shortens client input quoted in a message to clipLen bytes (at a
// character boundary) and an ellipsis, so that an answer never repeats an
// unbounded value.
func Clip(s string) string { return ClipTo(s, clipLen) }

// ClipTo shortens s to at most n bytes, at a character boundary, and an
// ellipsis.
func ClipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// normalizeName folds a JSON member name the way decodeOptions matches it.
func normalizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '_' || r == '-':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// DescribeError turns a JSON decoding error into a message that names the
// place: a byte offset for syntax errors, a field path for type errors and
// members given twice.
// prefix is the path of the decoded value (e.g. "humanUsers[3]").
func DescribeError(prefix string, err error) string {
	var se *json.SemanticError
	if errors.As(err, &se) {
		path := joinPath(prefix, pointerToPath(string(se.JSONPointer)))
		msg := "invalid value"
		switch {
		case se.Err != nil:
			msg = se.Err.Error()
		case se.JSONKind != 0 && se.GoType != nil:
			msg = fmt.Sprintf("expected %s, got %s", goKind(se.GoType.Kind().String()), kindName(se.JSONKind))
		}
		if path == "" {
			return msg
		}
		return path + ": " + msg
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName) {
		p := syn.JSONPointer
		return withPath(joinPath(prefix, pointerToPath(string(p.Parent()))),
			p.LastToken()+" repeats an earlier member (names match ignoring case, '_' and '-'); give it once")
	}
	if errors.As(err, &syn) {
		return fmt.Sprintf("not valid JSON at byte %d: %v", syn.ByteOffset, syn.Err)
	}
	return err.Error()
}

func joinPath(prefix, rest string) string {
	switch {
	case prefix == "":
		return strings.TrimPrefix(rest, ".")
	case rest == "":
		return prefix
	}
	return prefix + rest
}

// pointerToPath turns "/user/profile/0" into ".user.profile[0]".
func pointerToPath(p string) string {
	if p == "" {
		return ""
	}
	var b strings.Builder
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			b.WriteString("[" + seg + "]")
			continue
		}
		b.WriteString("." + seg)
	}
	return b.String()
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "invalid value"
}

func goKind(k string) string {
	switch k {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return "a " + k
}
