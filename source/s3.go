package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// s3Object is an object in an S3 bucket, on AWS or an S3-compatible store
// (path-style addressing). Its version is its ETag: every read sends it as
// If-Match and checks the ETag of the answer.
type s3Object struct {
	loc    Location
	client *s3.Client
	http   *http.Client
}

// awsRegional matches AWS's regional endpoints, which name their region.
var awsRegional = regexp.MustCompile(`^s3[.-](?:dualstack\.)?([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

func openS3(ctx context.Context, cfg Config, loc Location, creds Credentials) (Object, error) {
	listed, err := cfg.S3Endpoints.CheckEndpoint(loc.Endpoint)
	if err != nil {
		return nil, &Error{Loc: loc, Msg: err.Error()}
	}
	if loc.Bucket == "" || loc.Path == "" {
		return nil, &Error{Loc: loc, Msg: "bucket and path are required"}
	}
	hc := guardedClient(listed)
	opts := s3.Options{
		Region:       cmpOr(cfg.S3Region, "us-east-1"),
		UsePathStyle: true,
		HTTPClient:   hc,
		// Reads retry on their own (retry), resuming where a stream broke.
		RetryMaxAttempts: 1,
	}
	if loc.Endpoint != "" {
		host, _, _ := splitHostPort(loc.Endpoint)
		if m := awsRegional.FindStringSubmatch(host); m != nil && m[1] != "external-1" {
			opts.Region = m[1]
		}
		scheme := "http://"
		if loc.SSL {
			scheme = "https://"
		}
		opts.BaseEndpoint = aws.String(scheme + loc.Endpoint)
	}
	if creds.AccessKeyID != "" || creds.SecretAccessKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")
	} else {
		imdsState := imds.ClientDisabled
		if cfg.S3AllowIMDS {
			imdsState = imds.ClientEnabled
		}
		ac, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithEC2IMDSClientEnableState(imdsState))
		if err != nil {
			return nil, &Error{Loc: loc, Msg: "the default AWS credentials cannot be loaded: " + err.Error()}
		}
		opts.Credentials = ac.Credentials
	}
	return &s3Object{loc: loc, client: s3.New(opts), http: hc}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (o *s3Object) Location() Location { return o.loc }

func (o *s3Object) Close() error {
	o.http.CloseIdleConnections()
	return nil
}

func (o *s3Object) Stat(ctx context.Context) (Version, error) {
	out, err := o.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &o.loc.Bucket, Key: &o.loc.Path})
	if err != nil {
		err = o.classify(err)
		var se *Error
		if errors.As(err, &se) && se.Msg == msgNoObject {
			// A HEAD answer has no body: ask whether the bucket is there.
			if _, berr := o.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &o.loc.Bucket}); berr != nil {
				var re *awshttp.ResponseError
				if errors.As(berr, &re) && re.HTTPStatusCode() == 404 {
					return Version{}, &Error{Loc: o.loc, Msg: "the bucket does not exist"}
				}
			}
		}
		return Version{}, err
	}
	return Version{Tag: aws.ToString(out.ETag), Size: aws.ToInt64(out.ContentLength)}, nil
}

func (o *s3Object) open(ctx context.Context, v Version, start, end int64) (io.ReadCloser, error) {
	rng := fmt.Sprintf("bytes=%d-", start)
	if end >= 0 {
		rng = fmt.Sprintf("bytes=%d-%d", start, end-1)
	}
	out, err := o.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.loc.Bucket, Key: &o.loc.Path, Range: &rng, IfMatch: &v.Tag})
	if err != nil {
		return nil, o.classify(err)
	}
	if aws.ToString(out.ETag) != v.Tag {
		out.Body.Close()
		return nil, ErrChanged
	}
	want := v.Size - start
	if end >= 0 {
		want = end - start
	}
	if n := out.ContentLength; n != nil && *n != want {
		out.Body.Close()
		return nil, &Error{Loc: o.loc, Msg: fmt.Sprintf("the storage answered %d bytes to a range read of %d: it must support range reads (Range)", *n, want)}
	}
	return out.Body, nil
}

// msgNoObject is the message of a missing object.
const msgNoObject = "the object does not exist"

// classify turns an S3 error into ErrChanged, an *Error naming what is
// wrong, a transient error, or leaves it (network errors; see transient).
func (o *s3Object) classify(err error) error {
	var se *Error
	if errors.As(err, &se) {
		if se.Loc.Kind == "" {
			return &Error{Loc: o.loc, Msg: se.Msg}
		}
		return err
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return &Error{Loc: o.loc, Msg: "the endpoint's TLS certificate is not valid: " + cert.Err.Error()}
	}
	// No answer came (refused, reset, timed out): the SDK wraps that in a
	// ResponseError too, of status 0, so this goes first.
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return &transientError{err}
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		if strings.Contains(err.Error(), "get credentials") || strings.Contains(err.Error(), "get identity") {
			return &Error{Loc: o.loc, Msg: "no AWS credentials: give accessKeyId and secretAccessKey"}
		}
		return err
	}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := re.HTTPStatusCode()
	switch {
	case status == 412 || code == "PreconditionFailed":
		return ErrChanged
	case code == "NoSuchBucket":
		return &Error{Loc: o.loc, Msg: "the bucket does not exist"}
	case status == 404:
		return &Error{Loc: o.loc, Msg: msgNoObject}
	case code == "InvalidAccessKeyId":
		return &Error{Loc: o.loc, Msg: "the access key is not known: check accessKeyId"}
	case code == "SignatureDoesNotMatch":
		return &Error{Loc: o.loc, Msg: "the signature does not match: check secretAccessKey"}
	case status == 401 || status == 403:
		return &Error{Loc: o.loc, Msg: "access denied: check accessKeyId, secretAccessKey and the bucket's permissions"}
	case status == 429 || status >= 500 || code == "SlowDown" || code == "RequestTimeout":
		return &transientError{err}
	}
	if code == "" {
		code = "no error code"
	}
	return &Error{Loc: o.loc, Msg: fmt.Sprintf("the storage refused the request: HTTP %d (%s)", status, code)}
}
