package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zimport/zimport/instance"
)

// CreateInstance writes a planned instance in one transaction, all or
// nothing: the instance, its domains, the first org, the owner with
// ORG_OWNER on it, the owner's PAT and machine key (hash and public key
// only), and ends the create_instance job jobID as succeeded with
// sealedResult. The job row is locked first; a job that has already ended
// is left alone and nothing is written (a retried task creates no second
// instance). A domain used by another instance is an error wrapping
// ErrConflict whose message is for the client (`custom domain "x" is already
// used by another instance`), and nothing is written; so is data that the
// database refuses, wrapping ErrRejected. An unknown job is ErrNotFound.
func (s *Store) CreateInstance(ctx context.Context, jobID string, p instance.Plan, sealedResult []byte) error {
	if !ValidJobID(jobID) {
		return fmt.Errorf("create instance: job %s: %w", jobID, ErrNotFound)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM jobs WHERE id = $1 FOR NO KEY UPDATE`, jobID).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("job %s: %w", jobID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock job: %w", err)
		}
		if Terminal(status) {
			return nil
		}
		if err := insertInstance(ctx, tx, p); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs SET status = 'succeeded', finished_at = now(), result_sealed = $2
			WHERE id = $1`, jobID, sealedResult); err != nil {
			return fmt.Errorf("end job: %w", err)
		}
		return nil
	})
	var ce *conflictError
	switch msg, _ := rejection(err); {
	case errors.As(err, &ce):
		return ce // its message is for the client, as it is
	case msg != "":
		return &rejectedError{msg: "the database rejected the instance: " + msg}
	case err != nil:
		return fmt.Errorf("create instance: %w", err)
	}
	return nil
}

// conflictError is an ErrConflict whose message is meant for the client.
type conflictError struct{ msg string }

func (e *conflictError) Error() string { return e.msg }
func (e *conflictError) Unwrap() error { return ErrConflict }

func conflictf(format string, args ...any) error {
	return &conflictError{msg: fmt.Sprintf(format, args...)}
}

// insertInstance writes the rows of p.
func insertInstance(ctx context.Context, tx pgx.Tx, p instance.Plan) error {
	if _, err := tx.Exec(ctx, `INSERT INTO instances (id, name, default_language, default_org_id, created_at)
		VALUES ($1, $2, $3, $4, $5)`, p.InstanceID, p.Name, p.DefaultLanguage, p.Org.ID, p.CreatedAt); err != nil {
		if isUniqueViolation(err) {
			return conflictf("instance id %s is already taken", p.InstanceID)
		}
		return fmt.Errorf("insert instance: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO instance_policies (instance_id, kind, policy)
		SELECT $1, kind, policy FROM default_policies`, p.InstanceID); err != nil {
		return fmt.Errorf("insert default policies: %w", err)
	}
	for _, d := range p.Domains {
		if _, err := tx.Exec(ctx, `INSERT INTO instance_domains (domain, instance_id, is_primary, generated)
			VALUES ($1, $2, $3, $4)`, d.Name, p.InstanceID, d.Primary, d.Generated); err != nil {
			switch {
			case !isUniqueViolation(err):
				return fmt.Errorf("insert instance domain: %w", err)
			case d.Generated:
				return conflictf("generated domain %q is already used by another instance", d.Name)
			}
			return conflictf("custom domain %q is already used by another instance", d.Name)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO orgs (instance_id, id, name, created_at) VALUES ($1, $2, $3, $4)`,
		p.InstanceID, p.Org.ID, p.Org.Name, p.CreatedAt); err != nil {
		return fmt.Errorf("insert first org: %w", err)
	}
	u := p.Owner
	if _, err := tx.Exec(ctx, `INSERT INTO users (instance_id, id, org_id, type, username, username_scope, state,
			first_name, last_name, display_name, preferred_language, email, email_verified,
			password_hash, password_change_required, name, access_token_type, created_at)
		VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		p.InstanceID, u.ID, p.Org.ID, u.Type, u.UserName, u.State,
		nullable(u.FirstName), nullable(u.LastName), nullable(u.DisplayName), nullable(u.PreferredLanguage),
		nullable(u.Email), u.EmailVerified, nullable(u.PasswordHash), u.PasswordChangeRequired,
		nullable(u.Name), nullable(u.AccessTokenType), p.CreatedAt); err != nil {
		return fmt.Errorf("insert owner: %w", err)
	}
	if len(p.OwnerRoles) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO org_members (instance_id, org_id, user_id, roles) VALUES ($1, $2, $3, $4)`,
			p.InstanceID, p.Org.ID, u.ID, p.OwnerRoles); err != nil {
			return fmt.Errorf("insert owner membership: %w", err)
		}
	}
	if t := p.PAT; t != nil {
		scopes := t.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO personal_access_tokens (id, instance_id, user_id, token_hash, scopes, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.ID, p.InstanceID, u.ID, t.Hash, scopes, t.ExpiresAt, p.CreatedAt); err != nil {
			return fmt.Errorf("insert personal access token: %w", err)
		}
	}
	if k := p.MachineKey; k != nil {
		if _, err := tx.Exec(ctx, `INSERT INTO machine_keys (instance_id, id, user_id, key_type, public_key, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.InstanceID, k.ID, u.ID, k.Type, k.PublicKey, k.ExpiresAt, p.CreatedAt); err != nil {
			return fmt.Errorf("insert machine key: %w", err)
		}
	}
	return nil
}

// JobResultSealed returns the sealed result of a job (a create_instance
// job's CreateInstanceResponse), or ErrNotFound when the job does not exist
// or has none.
func (s *Store) JobResultSealed(ctx context.Context, jobID string) ([]byte, error) {
	return s.sealedColumn(ctx, "result_sealed", jobID)
}

// JobRequestSealed returns the sealed request of a job, or ErrNotFound when
// the job does not exist or has none.
func (s *Store) JobRequestSealed(ctx context.Context, jobID string) ([]byte, error) {
	return s.sealedColumn(ctx, "request_sealed", jobID)
}

// sealedColumn reads column (a constant) of job jobID.
func (s *Store) sealedColumn(ctx context.Context, column, jobID string) ([]byte, error) {
	if !ValidJobID(jobID) {
		return nil, fmt.Errorf("job %s: %w", jobID, ErrNotFound)
	}
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT `+column+` FROM jobs WHERE id = $1`, jobID).Scan(&b)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("job %s: %w", jobID, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("load %s of job %s: %w", column, jobID, err)
	case b == nil:
		return nil, fmt.Errorf("%s of job %s: %w", column, jobID, ErrNotFound)
	}
	return b, nil
}

// InstanceByToken returns the instance and user of a personal access token
// by its hash (instance.TokenHash). An unknown or expired token is
// ErrNotFound.
func (s *Store) InstanceByToken(ctx context.Context, tokenHash []byte) (TokenOwner, error) {
	var t TokenOwner
	err := s.pool.QueryRow(ctx, `SELECT instance_id, user_id, expires_at FROM personal_access_tokens
		WHERE token_hash = $1 AND expires_at > now()`, tokenHash).Scan(&t.InstanceID, &t.UserID, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return TokenOwner{}, ErrNotFound
	}
	if err != nil {
		return TokenOwner{}, fmt.Errorf("look up token: %w", err)
	}
	return t, nil
}

// TokenOwner is the instance and user of a personal access token, and when
// the token expires.
type TokenOwner struct {
	InstanceID, UserID string
	ExpiresAt          time.Time
}

// InstanceExists reports whether instance id exists. The scratch instance
// of a dry run is not an instance that clients may address.
func (s *Store) InstanceExists(ctx context.Context, id string) (bool, error) {
	if strings.HasPrefix(id, dryRunPrefix) {
		return false, nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instances WHERE id = $1)`, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up instance: %w", err)
	}
	return ok, nil
}
