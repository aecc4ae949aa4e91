package importdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	// Timeout is the request's timeout string, empty when absent.
	Timeout string
	// OnConflict is FAIL, SKIP or OVERWRITE (default FAIL).
	OnConflict string
	// DryRun asks for validation only.
	DryRun bool
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
	if req.Field == FieldDataOrgs {
		err := ScanOrgs(bytes.NewReader(req.Inline), ScanOptions{ChunkSize: chunkSize, Strict: true}, func(OrgLayout) error { return nil })
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
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := normalizeName(tok.String())
		before := dec.InputOffset()
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		// The value is sliced from the body: the decoder reuses its buffer.
		val := jsontext.Value(bytes.TrimLeft(body[before:dec.InputOffset()], " \t\r\n:"))
		if err := setMember(req, name, val); err != nil {
			return err
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

func setMember(req *Request, name string, val jsontext.Value) error {
	for _, f := range dataFields {
		if normalizeName(f) != name {
			continue
		}
		if val.Kind() == 'n' {
			return nil
		}
		if req.Field != "" {
			return requestErr("only one data field may be set, got %s and %s", req.Field, f)
		}
		req.Field = f
		if val.Kind() != '{' {
			return requestErr("%s: expected an object, got %s", f, kindName(val.Kind()))
		}
		if f == FieldDataOrgs || f == FieldDataOrgsV1 {
			req.Inline = val
		}
		return nil
	}
	switch name {
	case "timeout":
		return stringMember(val, "timeout", &req.Timeout)
	case "onconflict":
		var s string
		if err := stringMember(val, "onConflict", &s); err != nil {
			return err
		}
		switch strings.ToUpper(s) {
		case "", "FAIL", "ON_CONFLICT_FAIL":
			req.OnConflict = OnConflictFail
		case "SKIP", "ON_CONFLICT_SKIP":
			req.OnConflict = OnConflictSkip
		case "OVERWRITE", "ON_CONFLICT_OVERWRITE":
			req.OnConflict = OnConflictOverwrite
		default:
			return requestErr("onConflict: unknown value %q (want FAIL, SKIP or OVERWRITE)", s)
		}
	case "dryrun":
		switch val.Kind() {
		case 't', 'f':
			req.DryRun = val.Kind() == 't'
		case 'n':
		default:
			return requestErr("dryRun: expected a boolean, got %s", kindName(val.Kind()))
		}
	}
	return nil
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
