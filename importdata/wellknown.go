package importdata

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// This file holds the proto3-JSON forms of the protobuf well-known types and
// shared enums that several kinds use: google.protobuf.Duration and
// Timestamp, bytes, and authn.KeyType.

// Duration is a google.protobuf.Duration: in JSON a string of seconds with up
// to nine decimals and the suffix "s" ("3600s", "0.5s", "-1.000000001s").
// Durations beyond what time.Duration holds (about 292 years) are refused.
type Duration time.Duration

// readString reads a string or null (null is true); another token is an
// error that says it expected want, e.g. "a base64 string".
func readString(dec *jsontext.Decoder, want string) (s string, null bool, err error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return "", false, err
	}
	switch tok.Kind() {
	case 'n':
		return "", true, nil
	case '"':
		return tok.String(), false, nil
	}
	return "", false, fmt.Errorf("expected %s, got %s", want, kindName(tok.Kind()))
}

// UnmarshalJSONFrom reads a Duration; null is zero.
func (d *Duration) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	s, null, err := readString(dec, `a duration such as "1.5s"`)
	if err != nil {
		return err
	}
	if null {
		*d = 0
		return nil
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSONTo writes d as protojson does: seconds with 0, 3, 6 or 9 decimals.
func (d Duration) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteToken(jsontext.String(d.String()))
}

// String formats d as protojson does, e.g. "1.500s".
func (d Duration) String() string {
	v := int64(d)
	sign := ""
	if v < 0 {
		sign = "-"
	}
	abs := uint64(v)
	if v < 0 {
		abs = uint64(-(v + 1)) + 1 // math.MinInt64 too
	}
	sec, nanos := abs/1e9, abs%1e9
	frac := ""
	switch {
	case nanos == 0:
	case nanos%1e6 == 0:
		frac = fmt.Sprintf(".%03d", nanos/1e6)
	case nanos%1e3 == 0:
		frac = fmt.Sprintf(".%06d", nanos/1e3)
	default:
		frac = fmt.Sprintf(".%09d", nanos)
	}
	return sign + strconv.FormatUint(sec, 10) + frac + "s"
}

func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf(`invalid duration %q (want seconds with the suffix "s", e.g. "1.5s")`, s)
	num, ok := strings.CutSuffix(s, "s")
	if !ok || num == "" {
		return 0, bad
	}
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	whole, frac, hasFrac := strings.Cut(num, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || hasFrac && (frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "") {
		return 0, bad
	}
	sec, err := strconv.ParseUint(whole, 10, 64)
	if err != nil || sec > uint64(math.MaxInt64)/1e9 {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	nanos := uint64(0)
	if hasFrac {
		n, _ := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		nanos = n
	}
	total := sec*1e9 + nanos
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	if neg {
		return -time.Duration(total), nil
	}
	return time.Duration(total), nil
}

// Timestamp is a google.protobuf.Timestamp: in JSON an RFC 3339 string
// ("2030-01-01T00:00:00Z"; offsets other than Z are accepted) of a year
// from 1 to 9999. The zero Timestamp is an absent one.
type Timestamp struct{ time.Time }

// UnmarshalJSONFrom reads a Timestamp; null is the zero Timestamp.
func (t *Timestamp) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	s, null, err := readString(dec, `a timestamp such as "2030-01-01T00:00:00Z"`)
	if err != nil {
		return err
	}
	if null {
		*t = Timestamp{}
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || v.UTC().Year() < 1 || v.UTC().Year() > 9999 {
		return fmt.Errorf(`invalid timestamp %q (want RFC 3339, e.g. "2030-01-01T00:00:00Z")`, s)
	}
	*t = Timestamp{v.UTC()}
	return nil
}

// MarshalJSONTo writes t in UTC as protojson does.
func (t Timestamp) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteToken(jsontext.String(t.UTC().Format(time.RFC3339Nano)))
}

// Bytes is a protobuf bytes value: in JSON base64, standard or URL-safe,
// padded or not; written standard and padded.
type Bytes []byte

// UnmarshalJSONFrom reads Bytes; null is nil.
func (b *Bytes) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	s, null, err := readString(dec, "a base64 string")
	if err != nil {
		return err
	}
	if null {
		*b = nil
		return nil
	}
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	v, err := enc.DecodeString(s)
	if err != nil {
		return fmt.Errorf("invalid base64: %v", err)
	}
	*b = v
	return nil
}

// MarshalJSONTo writes b as standard, padded base64.
func (b Bytes) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteToken(jsontext.String(base64.StdEncoding.EncodeToString(b)))
}

// KeyType is authn.KeyType.
type KeyType int32

// Key types.
const (
	KeyTypeUnspecified KeyType = iota
	KeyTypeJSON
)

var keyTypeNames = []string{"KEY_TYPE_UNSPECIFIED", "KEY_TYPE_JSON"}

func (e *KeyType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, keyTypeNames)
	*e = KeyType(v)
	return err
}
func (e KeyType) String() string { return enumName(keyTypeNames, int32(e)) }
