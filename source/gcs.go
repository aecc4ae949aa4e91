package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// gcsObject is an object in a GCS bucket. Its version is its generation:
// every read asks for that generation.
type gcsObject struct {
	loc    Location
	client *storage.Client
}

// googleTokenURI is the one token endpoint a service-account key may name.
const googleTokenURI = "https://oauth2.googleapis.com/token"

// CheckServiceAccount checks a service-account JSON from a request: it
// must be a key of type service_account whose token endpoint is Google's
// (another type, or another endpoint, would make zimport read files or
// contact hosts the request chooses).
func CheckServiceAccount(b []byte) error {
	var sa struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
		TokenURI    string `json:"token_uri"`
	}
	if err := json.Unmarshal(b, &sa); err != nil {
		return errors.New("is not a service-account JSON key")
	}
	switch {
	case sa.Type != "service_account":
		return fmt.Errorf("must be a key of type \"service_account\", not %s", strconv.Quote(sa.Type))
	case sa.ClientEmail == "" || sa.PrivateKey == "":
		return errors.New("has no client_email or private_key")
	case sa.TokenURI != "" && sa.TokenURI != googleTokenURI:
		return fmt.Errorf("token_uri must be %s", googleTokenURI)
	}
	return nil
}

func openGCS(ctx context.Context, _ Config, loc Location, creds Credentials) (Object, error) {
	if loc.Bucket == "" || loc.Path == "" {
		return nil, &Error{Loc: loc, Msg: "bucket and path are required"}
	}
	var opts []option.ClientOption
	if len(creds.ServiceAccountJSON) > 0 {
		if err := CheckServiceAccount(creds.ServiceAccountJSON); err != nil {
			return nil, &Error{Loc: loc, Msg: "serviceaccountJson " + err.Error()}
		}
		// An emulator (STORAGE_EMULATOR_HOST) takes no credentials.
		if os.Getenv("STORAGE_EMULATOR_HOST") == "" {
			opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, creds.ServiceAccountJSON))
		}
	}
	// JSON API reads: they take the generation in every emulator too.
	client, err := storage.NewClient(ctx, append(opts, storage.WithJSONReads())...)
	if err != nil {
		return nil, &Error{Loc: loc, Msg: "no GCS client: " + err.Error()}
	}
	// Reads retry on their own (retry), resuming where a stream broke.
	client.SetRetry(storage.WithPolicy(storage.RetryNever))
	return &gcsObject{loc: loc, client: client}, nil
}

func (o *gcsObject) Location() Location { return o.loc }

func (o *gcsObject) Close() error { return o.client.Close() }

func (o *gcsObject) Stat(ctx context.Context) (Version, error) {
	attrs, err := o.client.Bucket(o.loc.Bucket).Object(o.loc.Path).Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		// The JSON API answers 404 for a missing bucket too: ask.
		if _, berr := o.client.Bucket(o.loc.Bucket).Attrs(ctx); errors.Is(berr, storage.ErrBucketNotExist) {
			err = berr
		}
	}
	if err != nil {
		return Version{}, o.classify(err, false)
	}
	return Version{Tag: strconv.FormatInt(attrs.Generation, 10), Size: attrs.Size}, nil
}

func (o *gcsObject) open(ctx context.Context, v Version, start, end int64) (io.ReadCloser, error) {
	gen, err := strconv.ParseInt(v.Tag, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("generation %q: %w", v.Tag, err)
	}
	length := int64(-1)
	if end >= 0 {
		length = end - start
	}
	r, err := o.client.Bucket(o.loc.Bucket).Object(o.loc.Path).Generation(gen).NewRangeReader(ctx, start, length)
	if err != nil {
		return nil, o.classify(err, true)
	}
	return gcsReader{r, o}, nil
}

// gcsReader classifies the errors of a storage.Reader, which reopens itself
// where a broken body stopped and so fails on Read as a request does: with a
// pinned generation that is gone, or a 5xx.
type gcsReader struct {
	*storage.Reader
	o *gcsObject
}

func (r gcsReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = r.o.classify(err, true)
	}
	return n, err
}

// classify turns a GCS error into ErrChanged (a pinned generation that is
// gone), an *Error naming what is wrong, a transient error, or leaves it.
func (o *gcsObject) classify(err error, pinned bool) error {
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		return &Error{Loc: o.loc, Msg: "the bucket does not exist"}
	case errors.Is(err, storage.ErrObjectNotExist) && pinned:
		return ErrChanged
	case errors.Is(err, storage.ErrObjectNotExist):
		return &Error{Loc: o.loc, Msg: "the object does not exist"}
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch {
		case ge.Code == 404 && pinned:
			return ErrChanged
		case ge.Code == 404:
			return &Error{Loc: o.loc, Msg: "the object does not exist"}
		case ge.Code == 412:
			return ErrChanged
		case ge.Code == 401 || ge.Code == 403:
			return &Error{Loc: o.loc, Msg: "access denied: check serviceaccountJson and the bucket's permissions"}
		case ge.Code == 429 || ge.Code >= 500:
			return &transientError{err}
		}
		return &Error{Loc: o.loc, Msg: fmt.Sprintf("the storage refused the request: HTTP %d", ge.Code)}
	}
	if storage.ShouldRetry(err) {
		return &transientError{err}
	}
	return err
}
