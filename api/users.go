package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/internal/batch"
	"github.com/zimport/zimport/store"
)

// headerOrgID names the org of a management call (ZITADEL's header).
const headerOrgID = "x-zitadel-orgid"

// maxUserBody limits the body of POST /users/human/_import: one user.
const maxUserBody = 256 << 10

// maxOrgID is the longest x-zitadel-orgid that can name an org.
const maxOrgID = 200

// humanUserAnswer is ZITADEL's ImportHumanUserResponse.
type humanUserAnswer struct {
	UserID                   string              `json:"userId"`
	Details                  objectDetails       `json:"details"`
	PasswordlessRegistration *passwordlessAnswer `json:"passwordlessRegistration,omitempty"`
}

// objectDetails is ZITADEL's object.v1.ObjectDetails: a 64-bit sequence is a
// string in proto3 JSON; changeDate is unset for a new user.
type objectDetails struct {
	Sequence      string `json:"sequence"`
	CreationDate  string `json:"creationDate"`
	ResourceOwner string `json:"resourceOwner"`
}

// passwordlessAnswer is ImportHumanUserResponse.PasswordlessRegistration:
// lifetime and expiration are the code's lifetime as proto3 durations.
type passwordlessAnswer struct {
	Link       string `json:"link"`
	Lifetime   string `json:"lifetime"`
	Expiration string `json:"expiration"`
}

// postHumanUser is ZITADEL's ImportHumanUser: one human user, imported
// synchronously by the same step as the human users of POST /import, into
// the org of x-zitadel-orgid (the caller's org without it). The answer is
// ImportHumanUserResponse; a user the rules refuse is 400, 409 or 412 with
// ZITADEL's error id; an org that the caller's instance does not have is 404.
func (s *Server) postHumanUser(c echo.Context) error {
	cl, key, err := instanceRequest(c)
	if err != nil {
		return err
	}
	orgID := strings.TrimSpace(c.Request().Header.Get(headerOrgID))
	if !printable(orgID, maxOrgID) {
		return errOrgNotFound // it cannot name one
	}
	body, release, err := s.readBody(c, maxUserBody)
	if err != nil {
		return err
	}
	defer release()
	var req importdata.ImportHumanUserRequest
	if err := importdata.Unmarshal(body, &req); err != nil {
		return errInvalid("body is not a valid ImportHumanUserRequest: %s", importdata.DescribeError("", err))
	}
	plain := req.Password != "" && (req.HashedPassword == nil || req.HashedPassword.Value == "")
	if !s.userRequests.acquire(cl.instanceID) {
		return tooMany(c)
	}
	defer s.userRequests.release(cl.instanceID)
	if plain {
		if !s.plainRequests.acquire(cl.instanceID) {
			return tooMany(c)
		}
		defer s.plainRequests.release(cl.instanceID)
	}
	ctx := c.Request().Context()
	var out store.HumanImported
	if key == "" && !plain {
		// Imported together with the users that other requests for the
		// org send meanwhile, each with its own outcome.
		out, err = s.userBatches.Do(ctx, userBatchKey{cl.instanceID, orgID, cl.userID}, req)
	} else {
		in := store.HumanImport{InstanceID: cl.instanceID, OrgID: orgID, CallerUserID: cl.userID, User: req}
		if key != "" {
			// The org is part of the request: the same body for another org
			// is another request.
			in.Idempotency = store.Idempotency{Caller: cl.name(), Key: key, Digest: s.box.Digest(append([]byte(orgID+"\x00"), body...))}
		}
		out, err = s.importHumanUser(ctx, in, plain)
	}
	var rej *store.HumanRejected
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errOrgNotFound
	case errors.Is(err, store.ErrConflict):
		return errKeyReused
	case errors.As(err, &rej):
		return rejectedUser(rej)
	case errors.Is(err, context.DeadlineExceeded):
		return errUserTimeout
	case err != nil:
		return fmt.Errorf("import human user: %w", err)
	}
	if out.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	s.log.Debug("human user imported", zap.String("request_id", requestID(c)), zap.String("instance_id", cl.instanceID),
		zap.String("org_id", out.OrgID), zap.String("user_id", out.UserID), zap.Bool("replayed", out.Replayed))
	answer := humanUserAnswer{UserID: out.UserID, Details: objectDetails{
		Sequence:      strconv.Itoa(out.Sequence),
		CreationDate:  timestamp(out.CreatedAt),
		ResourceOwner: out.OrgID,
	}}
	if p := out.Passwordless; p != nil {
		d := strconv.FormatInt(int64(p.Lifetime.Seconds()), 10) + "s"
		answer.PasswordlessRegistration = &passwordlessAnswer{Link: p.Link, Lifetime: d, Expiration: d}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store") // it may carry a registration link
	return c.JSON(http.StatusOK, answer)
}

// userBatchKey is what the users of a batch share: the caller's instance,
// the x-zitadel-orgid header and the caller's user (whose org is the
// default).
type userBatchKey struct{ instanceID, orgID, callerUserID string }

// Batches of users of POST /users/human/_import: at most userBatchSize
// users in one transaction, userBatchesPerOrg transactions of an org at once.
const (
	userBatchSize     = 64
	userBatchesPerOrg = 2
	userBatchTimeout  = 30 * time.Second
)

// importHumanUser imports one user alone; unless its password is plain
// (and the wait is for bcrypt), it waits for one of the instance's
// transaction slots first.
func (s *Server) importHumanUser(ctx context.Context, in store.HumanImport, plain bool) (store.HumanImported, error) {
	if !plain {
		if err := s.userTransactions.acquire(ctx, in.InstanceID); err != nil {
			return store.HumanImported{}, err
		}
		defer s.userTransactions.release(in.InstanceID)
	}
	return s.st.ImportHumanUser(ctx, in, s.applyOptions())
}

// importUserBatch imports the users of concurrent requests for one org, in
// one of the instance's transaction slots.
func (s *Server) importUserBatch(ctx context.Context, k userBatchKey, users []importdata.ImportHumanUserRequest) ([]batch.Result[store.HumanImported], error) {
	if err := s.userTransactions.acquire(ctx, k.instanceID); err != nil {
		return nil, err
	}
	defer s.userTransactions.release(k.instanceID)
	outs, err := s.st.ImportHumanUsers(ctx, store.HumanBatch{InstanceID: k.instanceID, OrgID: k.orgID, CallerUserID: k.callerUserID,
		Users: users}, s.applyOptions())
	if err != nil {
		return nil, err
	}
	results := make([]batch.Result[store.HumanImported], len(outs))
	for i, o := range outs {
		results[i] = batch.Result[store.HumanImported]{V: o.HumanImported, Err: o.Err}
	}
	return results, nil
}

// applyOptions are the options of the API's imports of users.
func (s *Server) applyOptions() store.ApplyOptions {
	return store.ApplyOptions{BcryptCost: s.cfg.BcryptCost, Seal: s.box, HashSlots: s.hashSlots}
}

// tooMany answers 429 with a hint when to retry.
func tooMany(c echo.Context) error {
	c.Response().Header().Set("Retry-After", "1")
	return errTooManyUserRequests
}

var (
	errUserTimeout = &apiError{status: http.StatusGatewayTimeout, code: codeDeadlineExceeded,
		msg: "the user could not be imported in time; it was not imported, or was if a retry says it exists"}
	errOrgNotFound = errNotFound("org not found")
	errKeyReused   = &apiError{status: http.StatusConflict, code: codeAlreadyExists, msg: "Idempotency-Key was already used for a different request"}
)

// rejectedUser is the answer to a user that ZITADEL's rules refuse: the
// gRPC code ZITADEL uses for the error (FailedPrecondition for a missing
// IdP, COMMAND-39nfs; InvalidArgument for DomainNotAllowedAsUsername,
// COMMAND-SFd21), its id and message key, and what is wrong where.
// ZITADEL's own gateway answers FailedPrecondition with 400; zimport
// answers 412, which tells it apart from a malformed request.
func rejectedUser(r *store.HumanRejected) error {
	msg := r.Key
	if r.Detail != "" {
		msg += ": " + r.Detail
	}
	msg += " (" + r.ID + ")"
	detail := &errorDetail{Type: errorDetailType, ID: r.ID, Message: r.Key}
	switch {
	case strings.HasSuffix(r.Key, ".AlreadyExists"), strings.HasSuffix(r.Key, ".AlreadyExisting"):
		return &apiError{status: http.StatusConflict, code: codeAlreadyExists, msg: msg, detail: detail}
	case r.Key == "Errors.IDPConfig.NotExisting":
		return &apiError{status: http.StatusPreconditionFailed, code: codeFailedPrecondition, msg: msg, detail: detail}
	}
	return &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, msg: msg, detail: detail}
}
