package importdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// Data members of ImportDataRequest, by canonical JSON name.
const (
	FieldDataOrgs        = "dataOrgs"
	FieldDataOrgsV1      = "dataOrgsv1"
	FieldDataOrgsLocal   = "dataOrgsLocal"
	FieldDataOrgsV1Local = "dataOrgsv1Local"
	FieldDataOrgsS3      = "dataOrgsS3"
	FieldDataOrgsV1S3    = "dataOrgsv1S3"
	FieldDataOrgsGCS     = "dataOrgsGcs"
	FieldDataOrgsV1GCS   = "dataOrgsv1Gcs"
)

var dataFields = []string{
	FieldDataOrgs, FieldDataOrgsV1, FieldDataOrgsLocal, FieldDataOrgsV1Local,
	FieldDataOrgsS3, FieldDataOrgsV1S3, FieldDataOrgsGCS, FieldDataOrgsV1GCS,
}

// FileInput is the member of a file data field: ZITADEL's LocalInput
// (path), S3Input (path, endpoint, accessKeyId, secretAccessKey, ssl,
// bucket) or GCSInput (bucket, serviceaccountJson, path). The members of the
// other inputs are ignored, like any unknown member.
type FileInput struct {
	Path            string `json:"path"`
	Endpoint        string `json:"endpoint"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SSL             bool   `json:"ssl"`
	Bucket          string `json:"bucket"`
	// ServiceAccountJSON is base64 (standard encoding) of a service-account JSON key.
	ServiceAccountJSON string `json:"serviceaccountJson"`
}

// FileKind returns "local", "s3" or "gcs" for a file data field, "" for
// inline data.
func FileKind(field string) string {
	switch field {
	case FieldDataOrgsLocal, FieldDataOrgsV1Local:
		return "local"
	case FieldDataOrgsS3, FieldDataOrgsV1S3:
		return "s3"
	case FieldDataOrgsGCS, FieldDataOrgsV1GCS:
		return "gcs"
	}
	return ""
}

// IsV1 reports whether a data field holds the v1 format.
func IsV1(field string) bool {
	switch field {
	case FieldDataOrgsV1, FieldDataOrgsV1Local, FieldDataOrgsV1S3, FieldDataOrgsV1GCS:
		return true
	}
	return false
}

// OnConflict values.
const (
	OnConflictFail      = "FAIL"
	OnConflictSkip      = "SKIP"
	OnConflictOverwrite = "OVERWRITE"
)

// Request is the envelope of an ImportDataRequest: which data member is set,
// the inline data itself, and the options.
type Request struct {
	// Field is the canonical name of the one data member that is set.
	Field string
	// Inline is the raw JSON of dataOrgs or dataOrgsv1.
	Inline jsontext.Value
	// File is the input of a file data member (dataOrgsLocal, ...S3, ...Gcs).
	File *FileInput
	// Timeout is the request's timeout string, empty when absent.
	Timeout string
	// OnConflict is FAIL, SKIP or OVERWRITE (default FAIL), read from a name
	// or a number (0, 1, 2).
	OnConflict string
	// DryRun asks for validation only.
	DryRun bool

	// inlineAt is the byte offset of Inline in the body.
	inlineAt int64
}

// RequestError is an invalid request envelope; its message names the field.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

func requestErr(format string, args ...any) error {
	return &RequestError{Msg: fmt.Sprintf(format, args...)}
}

// ParseRequest reads and checks an ImportDataRequest body. Inline data is
// checked strictly (syntax, shape and the type of every value) one element at
// a time; errors are *RequestError with the place of the problem.
func ParseRequest(body []byte, chunkSize int) (*Request, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	req := &Request{OnConflict: OnConflictFail}
	if err := parseEnvelope(dec, body, req); err != nil {
		var re *RequestError
		if errors.As(err, &re) {
			return nil, err
		}
		var syn *jsontext.SyntacticError
		if errors.As(err, &syn) {
			return nil, requestErr("body is not valid JSON at byte %d: %v", syn.ByteOffset, syn.Err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, requestErr("body is not valid JSON: unexpected end of input at byte %d", dec.InputOffset())
		}
		return nil, requestErr("body: %v", err)
	}
	if req.Field == "" {
		return nil, requestErr("one of %s is required", strings.Join(dataFields, ", "))
	}
	if req.Field == FieldDataOrgs || req.Field == FieldDataOrgsV1 {
		opts := ScanOptions{ChunkSize: chunkSize, Offset: req.inlineAt, Strict: true, V1: req.Field == FieldDataOrgsV1}
		err := ScanOrgs(bytes.NewReader(req.Inline), opts, func(OrgLayout) error { return nil })
		var se *ShapeError
		if errors.As(err, &se) {
			return nil, requestErr("%s: %s", req.Field, se.Msg)
		}
		if err != nil {
			return nil, err
		}
	}
	return req, nil
}

func parseEnvelope(dec *jsontext.Decoder, body []byte, req *Request) error {
	if k := dec.PeekKind(); k != '{' {
		if k == 0 {
			_, err := dec.ReadToken()
			return err
		}
		return requestErr("body: expected a JSON object, got %s", kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	sent := map[string]string{} // canonical name → name as sent
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		before := dec.InputOffset()
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		field, known := envelopeFields[normalizeName(name)]
		if !known {
			continue
		}
		if first, dup := sent[field]; dup {
			return requestErr("%s and %s are the same member; give it once", Clip(first), Clip(name))
		}
		sent[field] = name
		// The value is sliced from the body: the decoder reuses its buffer.
		val := jsontext.Value(bytes.TrimLeft(body[before:dec.InputOffset()], " \t\r\n:"))
		if err := setMember(req, field, val, sent); err != nil {
			return err
		}
		if req.Field == field {
			req.inlineAt = dec.InputOffset() - int64(len(val))
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return requestErr("body: unexpected data after the JSON object at byte %d", dec.InputOffset())
		}
		return err
	}
	return nil
}

// envelopeFields maps the normalized names of ImportDataRequest's members to
// their canonical names.
var envelopeFields = func() map[string]string {
	m := map[string]string{}
	for _, f := range append([]string{"timeout", "onConflict", "dryRun"}, dataFields...) {
		m[normalizeName(f)] = f
	}
	return m
}()

// setMember sets the member field (a canonical name) of req to val; sent
// has the names as sent, for messages.
func setMember(req *Request, field string, val jsontext.Value, sent map[string]string) error {
	switch field {
	case "timeout":
		return stringMember(val, "timeout", &req.Timeout)
	case "onConflict":
		v, err := onConflict(val)
		if err != nil {
			return err
		}
		req.OnConflict = v
	case "dryRun":
		switch val.Kind() {
		case 't', 'f':
			req.DryRun = val.Kind() == 't'
		case 'n':
		default:
			return requestErr("dryRun: expected a boolean, got %s", kindName(val.Kind()))
		}
	default: // a data field
		if val.Kind() == 'n' {
			return nil
		}
		if req.Field != "" {
			return requestErr("only one data field may be set, got %s and %s", sent[req.Field], sent[field])
		}
		req.Field = field
		if val.Kind() != '{' {
			return requestErr("%s: expected an object, got %s", field, kindName(val.Kind()))
		}
		if field == FieldDataOrgs || field == FieldDataOrgsV1 {
			req.Inline = val
			return nil
		}
		req.File = &FileInput{}
		if err := decodeStrict(field, val, req.File); err != nil {
			var se *ShapeError
			if errors.As(err, &se) {
				return requestErr("%s", se.Msg)
			}
			return err
		}
	}
	return nil
}

// onConflictValues are the onConflict values; each one's number is its index.
var onConflictValues = []string{OnConflictFail, OnConflictSkip, OnConflictOverwrite}

// onConflict reads onConflict as a proto3-JSON enum: a name in any case, also
// with the prefix ON_CONFLICT_, or a number (0 FAIL, 1 SKIP, 2 OVERWRITE) as
// a JSON number or string. null and "" are FAIL.
func onConflict(val jsontext.Value) (string, error) {
	var s string
	switch val.Kind() {
	case 'n':
		return OnConflictFail, nil
	case '"':
		if err := Unmarshal(val, &s); err != nil {
			return "", err
		}
	case '0':
		s = string(val)
	default:
		return "", requestErr("onConflict: expected a name or number, got %s", kindName(val.Kind()))
	}
	if s == "" {
		return OnConflictFail, nil
	}
	s = strings.ToUpper(s)
	for i, v := range onConflictValues {
		if s == v || s == "ON_CONFLICT_"+v || s == strconv.Itoa(i) {
			return v, nil
		}
	}
	return "", requestErr("onConflict: unknown value %s (want FAIL, SKIP or OVERWRITE, or their numbers 0, 1 or 2)", Clip(val.String()))
}

func stringMember(val jsontext.Value, name string, dst *string) error {
	switch val.Kind() {
	case 'n':
		return nil
	case '"':
		return Unmarshal(val, dst)
	}
	return requestErr("%s: expected a string, got %s", name, kindName(val.Kind()))
}
