package importdata

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeEnum reads a proto3-JSON enum: its name as a string, or its number
// (also as a string); null is 0. names are the enum's names by number, ""
// for a number the enum does not use. An unknown value is an error that
// quotes it and names the allowed values.
func decodeEnum(dec *jsontext.Decoder, names []string) (int32, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return 0, err
	}
	switch tok.Kind() {
	case 'n':
		return 0, nil
	case '"':
		s := tok.String()
		for i, n := range names {
			if n != "" && n == s {
				return int32(i), nil
			}
		}
		if n, ok := enumNumber(names, s); ok {
			return n, nil
		}
		return 0, enumError(strconv.Quote(s), names)
	case '0':
		s := tok.String()
		if n, ok := enumNumber(names, s); ok {
			return n, nil
		}
		return 0, enumError(s, names)
	}
	return 0, fmt.Errorf("expected an enum name or number, got %s", kindName(tok.Kind()))
}

// enumNumber parses s as a number of the enum of names.
func enumNumber(names []string, s string) (int32, bool) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 || int(n) >= len(names) || names[n] == "" {
		return 0, false
	}
	return int32(n), true
}

// enumError is the error of value (as written in the input: a name quoted,
// a number not), which is not one of the enum's names or numbers, e.g.
// `unknown value "X" (want A, B or C, or their numbers 0, 1 or 2)`.
func enumError(value string, names []string) error {
	value = Clip(value)
	var known, numbers []string
	for i, n := range names {
		if n != "" {
			known, numbers = append(known, n), append(numbers, strconv.Itoa(i))
		}
	}
	if len(known) == 1 {
		return fmt.Errorf("unknown value %s (want %s or its number %s)", value, known[0], numbers[0])
	}
	return fmt.Errorf("unknown value %s (want %s, or their numbers %s)", value, orList(known), orList(numbers))
}

// orList joins ss as "a", "a or b", "a, b or c".
func orList(ss []string) string {
	if len(ss) < 2 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " or " + ss[len(ss)-1]
}

func enumName(names []string, v int32) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return strconv.Itoa(int(v))
}

// OrgState is org.OrgState.
type OrgState int32

// Org states.
const (
	OrgStateUnspecified OrgState = iota
	OrgStateActive
	OrgStateInactive
	OrgStateRemoved
)

var orgStateNames = []string{"ORG_STATE_UNSPECIFIED", "ORG_STATE_ACTIVE", "ORG_STATE_INACTIVE", "ORG_STATE_REMOVED"}

func (e *OrgState) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, orgStateNames)
	*e = OrgState(v)
	return err
}
func (e OrgState) String() string { return enumName(orgStateNames, int32(e)) }

// UserState is user.UserState.
type UserState int32

// User states.
const (
	UserStateUnspecified UserState = iota
	UserStateActive
	UserStateInactive
	UserStateDeleted
	UserStateLocked
	UserStateSuspend
	UserStateInitial
)

var userStateNames = []string{"USER_STATE_UNSPECIFIED", "USER_STATE_ACTIVE", "USER_STATE_INACTIVE", "USER_STATE_DELETED", "USER_STATE_LOCKED", "USER_STATE_SUSPEND", "USER_STATE_INITIAL"}

func (e *UserState) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, userStateNames)
	*e = UserState(v)
	return err
}
func (e UserState) String() string { return enumName(userStateNames, int32(e)) }

// Gender is user.Gender.
type Gender int32

var genderNames = []string{"GENDER_UNSPECIFIED", "GENDER_FEMALE", "GENDER_MALE", "GENDER_DIVERSE"}

func (e *Gender) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, genderNames)
	*e = Gender(v)
	return err
}
func (e Gender) String() string { return enumName(genderNames, int32(e)) }

// AccessTokenType is user.AccessTokenType.
type AccessTokenType int32

var accessTokenTypeNames = []string{"ACCESS_TOKEN_TYPE_BEARER", "ACCESS_TOKEN_TYPE_JWT"}

func (e *AccessTokenType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, accessTokenTypeNames)
	*e = AccessTokenType(v)
	return err
}
func (e AccessTokenType) String() string { return enumName(accessTokenTypeNames, int32(e)) }

// PrivateLabelingSetting is project.PrivateLabelingSetting.
type PrivateLabelingSetting int32

var privateLabelingNames = []string{"PRIVATE_LABELING_SETTING_UNSPECIFIED", "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY", "PRIVATE_LABELING_SETTING_ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY"}

func (e *PrivateLabelingSetting) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := decodeEnum(dec, privateLabelingNames)
	*e = PrivateLabelingSetting(v)
	return err
}
func (e PrivateLabelingSetting) String() string { return enumName(privateLabelingNames, int32(e)) }
