package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/instance"
	"github.com/zimport/zimport/store"
)

// gRPC status codes of ZITADEL's error body.
const (
	codeUnknown            = 2
	codeInvalidArgument    = 3
	codeDeadlineExceeded   = 4
	codeNotFound           = 5
	codeAlreadyExists      = 6
	codePermissionDenied   = 7
	codeResourceExhausted  = 8
	codeFailedPrecondition = 9
	codeUnimplemented      = 12
	codeInternal           = 13
	codeUnavailable        = 14
	codeUnauthenticated    = 16
)

// apiError is an error answer: HTTP status, gRPC code and a message for the
// client. Its message is always safe to show.
type apiError struct {
	status int
	code   int
	msg    string
	// detail is ZITADEL's error detail (its error id and message key), when
	// the error is one of ZITADEL's; else the detail is the request id.
	detail *errorDetail
}

func (e *apiError) Error() string { return e.msg }

func errInvalid(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

func errNotFound(msg string) error {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, msg: msg}
}

func errUnavailable(msg string) error {
	return &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: msg}
}

var (
	errUnauthenticated  = &apiError{status: http.StatusUnauthorized, code: codeUnauthenticated, msg: "authentication required: send Authorization: Bearer <token> with a valid system token or personal access token"}
	errPermissionDenied = &apiError{status: http.StatusForbidden, code: codePermissionDenied, msg: "this endpoint needs a system token"}
	errJobNotFound      = errNotFound("job not found")
	errCrossSite        = &apiError{status: http.StatusForbidden, code: codePermissionDenied, msg: "the dashboard refuses changes requested from another site"}
)

// loggedError is an internal error that has already been logged.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

// errorBody is ZITADEL's (grpc-gateway's) error body.
type errorBody struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Details []errorDetail `json:"details"`
}

type errorDetail struct {
	Type    string `json:"@type"`
	ID      string `json:"id,omitempty"`
	Message string `json:"message,omitempty"`
}

const errorDetailType = "type.googleapis.com/zitadel.v1.ErrorDetail"

// codeOfStatus maps the HTTP status of Echo's own errors to a gRPC code
// (grpc-gateway's mapping, read backwards).
func codeOfStatus(status int) int {
	switch status {
	case http.StatusBadRequest:
		return codeInvalidArgument
	case http.StatusUnauthorized:
		return codeUnauthenticated
	case http.StatusForbidden:
		return codePermissionDenied
	case http.StatusNotFound:
		return codeNotFound
	case http.StatusConflict:
		return codeAlreadyExists
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codeResourceExhausted
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return codeUnimplemented
	case http.StatusServiceUnavailable:
		return codeUnavailable
	case http.StatusGatewayTimeout:
		return codeDeadlineExceeded
	case http.StatusInternalServerError:
		return codeInternal
	}
	if status >= 400 && status < 500 {
		return codeInvalidArgument
	}
	return codeUnknown
}

// classify turns any error into an apiError. internal is true when the
// error is not the client's and must be logged, with a generic answer.
func classify(err error) (ae *apiError, internal bool) {
	var he *echo.HTTPError
	var ireq *importdata.RequestError
	var nreq *instance.RequestError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae, ae.status >= 500 && ae.status != http.StatusServiceUnavailable
	case errors.As(err, &ireq):
		return &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, msg: ireq.Msg}, false
	case errors.As(err, &nreq):
		return &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, msg: nreq.Msg}, false
	case errors.As(err, &mbe):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: codeResourceExhausted, msg: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}, false
	case errors.Is(err, store.ErrNotFound):
		return errNotFound("not found").(*apiError), false
	case errors.Is(err, store.ErrConflict):
		return &apiError{status: http.StatusConflict, code: codeAlreadyExists, msg: "already exists"}, false
	case errors.Is(err, store.ErrInvalid):
		return &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, msg: err.Error()}, false
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		if he.Code == http.StatusNotFound {
			msg = "no such endpoint"
		}
		if he.Code >= 500 {
			return &apiError{status: he.Code, code: codeOfStatus(he.Code), msg: msg}, true
		}
		return &apiError{status: he.Code, code: codeOfStatus(he.Code), msg: msg}, false
	}
	return &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "internal error"}, true
}

// handleError is Echo's HTTPErrorHandler: the one place where errors become
// answers. 5xx answers never carry internal details; the log has the cause
// with the request ID, which the answer carries in X-Request-Id and details.
func (s *Server) handleError(err error, c echo.Context) {
	rid := requestID(c)
	ae, internal := classify(err)
	if internal || c.Response().Committed {
		var le loggedError
		canceled := errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil
		switch {
		case canceled:
			s.log.Debug("request canceled by the client", zap.String("request_id", rid), zap.String("path", c.Request().URL.Path))
		case !errors.As(err, &le):
			s.log.Error("request failed",
				zap.String("request_id", rid),
				zap.String("method", c.Request().Method),
				zap.String("path", c.Request().URL.Path),
				zap.Bool("committed", c.Response().Committed),
				zap.Error(err))
		}
	}
	if c.Response().Committed {
		return // a streamed answer broke off; the client sees a truncated body
	}
	msg, detail := clipMessage(ae.msg), clipMessage(ae.msg)
	if internal {
		msg = "internal error (request id " + rid + ")"
		detail = "internal error"
	}
	body := errorBody{Code: ae.code, Message: msg, Details: []errorDetail{{Type: errorDetailType, ID: rid, Message: detail}}}
	if ae.detail != nil && !internal {
		body.Details = []errorDetail{*ae.detail}
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(ae.status)
	} else {
		err = c.JSON(ae.status, body)
	}
	if err != nil {
		s.log.Debug("write error answer", zap.String("request_id", rid), zap.Error(err))
	}
}

// maxMessage bounds an error message; every value a message quotes is
// clipped already (importdata.Clip), so only a message that lists many
// problems reaches it.
const maxMessage = 4096

// clipMessage cuts msg to maxMessage bytes at a character boundary.
func clipMessage(msg string) string { return importdata.ClipTo(msg, maxMessage) }
