-- Tenants and their credentials.
CREATE TABLE instances (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    default_language text NOT NULL DEFAULT 'en',
    default_org_id   text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instance_domains (
    domain      text PRIMARY KEY,
    instance_id text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    is_primary  boolean NOT NULL DEFAULT false,
    generated   boolean NOT NULL DEFAULT false
);

-- Personal access tokens: only a SHA-256 of the token is stored.
CREATE TABLE personal_access_tokens (
    id          text PRIMARY KEY,
    instance_id text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    user_id     text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    scopes      text[] NOT NULL DEFAULT '{}',
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Machine keys: only the public key is stored.
CREATE TABLE machine_keys (
    instance_id text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    id          text NOT NULL,
    user_id     text NOT NULL,
    key_type    text NOT NULL,
    public_key  bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id)
);

-- The imported directory.
CREATE TABLE orgs (
    instance_id text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    id          text NOT NULL,
    name        text NOT NULL,
    state       text NOT NULL DEFAULT 'ORG_STATE_ACTIVE',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX orgs_name_key ON orgs (instance_id, lower(name));

CREATE TABLE org_domains (
    instance_id text NOT NULL,
    org_id      text NOT NULL,
    domain      text NOT NULL,
    is_verified boolean NOT NULL DEFAULT false,
    is_primary  boolean NOT NULL DEFAULT false,
    generated   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (instance_id, org_id, domain),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX org_domains_verified_key ON org_domains (instance_id, lower(domain)) WHERE is_verified;

-- users holds human and machine users. username_scope is '' when user names
-- are unique per instance, else the org id (userLoginMustBeDomain).
CREATE TABLE users (
    instance_id              text NOT NULL,
    id                       text NOT NULL,
    org_id                   text NOT NULL,
    type                     text NOT NULL CHECK (type IN ('human', 'machine')),
    username                 text NOT NULL,
    username_scope           text NOT NULL DEFAULT '',
    state                    text NOT NULL DEFAULT 'USER_STATE_ACTIVE',
    first_name               text,
    last_name                text,
    nick_name                text,
    display_name             text,
    preferred_language       text,
    gender                   text,
    email                    text,
    email_verified           boolean NOT NULL DEFAULT false,
    phone                    text,
    phone_verified           boolean NOT NULL DEFAULT false,
    password_hash            text,
    password_change_required boolean NOT NULL DEFAULT false,
    name                     text,
    description              text,
    access_token_type        text,
    created_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX users_username_key ON users (instance_id, username_scope, lower(username));
CREATE INDEX users_org ON users (instance_id, org_id);

CREATE TABLE projects (
    instance_id              text NOT NULL,
    id                       text NOT NULL,
    org_id                   text NOT NULL,
    name                     text NOT NULL,
    project_role_assertion   boolean NOT NULL DEFAULT false,
    project_role_check       boolean NOT NULL DEFAULT false,
    has_project_check        boolean NOT NULL DEFAULT false,
    private_labeling_setting text NOT NULL DEFAULT 'PRIVATE_LABELING_SETTING_UNSPECIFIED',
    created_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE project_roles (
    instance_id  text NOT NULL,
    project_id   text NOT NULL,
    role_key     text NOT NULL,
    display_name text NOT NULL,
    role_group   text NOT NULL DEFAULT '',
    PRIMARY KEY (instance_id, project_id, role_key),
    FOREIGN KEY (instance_id, project_id) REFERENCES projects (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE project_grants (
    instance_id    text NOT NULL,
    id             text NOT NULL,
    project_id     text NOT NULL,
    granted_org_id text NOT NULL,
    role_keys      text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (instance_id, id),
    UNIQUE (instance_id, project_id, granted_org_id),
    FOREIGN KEY (instance_id, project_id) REFERENCES projects (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, granted_org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE user_grants (
    instance_id      text NOT NULL,
    id               text NOT NULL,
    org_id           text NOT NULL,
    user_id          text NOT NULL,
    project_id       text NOT NULL,
    project_grant_id text NOT NULL DEFAULT '',
    role_keys        text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (instance_id, id),
    UNIQUE (instance_id, user_id, project_id, project_grant_id),
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, project_id) REFERENCES projects (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE org_members (
    instance_id text NOT NULL,
    org_id      text NOT NULL,
    user_id     text NOT NULL,
    roles       text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (instance_id, org_id, user_id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE project_members (
    instance_id text NOT NULL,
    project_id  text NOT NULL,
    user_id     text NOT NULL,
    roles       text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (instance_id, project_id, user_id),
    FOREIGN KEY (instance_id, project_id) REFERENCES projects (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE
);

-- Jobs. instance_id is NULL for jobs that create an instance.
CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('import', 'create_instance')),
    instance_id     text,
    caller          text NOT NULL,
    status          text NOT NULL DEFAULT 'queued',
    source_field    text NOT NULL DEFAULT '',
    on_conflict     text NOT NULL DEFAULT 'FAIL',
    dry_run         boolean NOT NULL DEFAULT false,
    timeout_ms      bigint NOT NULL,
    deadline        timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    error           text,
    source_size     bigint,
    stage           int NOT NULL DEFAULT 0,
    stage_pending   int NOT NULL DEFAULT 0,
    totals          jsonb NOT NULL DEFAULT '{}',
    request_sealed  bytea,
    result_sealed   bytea,
    idempotency_key text,
    request_hash    bytea
);
CREATE INDEX jobs_instance_created ON jobs (instance_id, created_at DESC, id DESC);
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (caller, coalesce(instance_id, ''), idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The inline payload of an import, read back in ranges (no compression, so
-- substring() reads only the TOAST chunks it needs).
CREATE TABLE job_payloads (
    job_id uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    data   bytea NOT NULL
);
ALTER TABLE job_payloads ALTER COLUMN data SET STORAGE EXTERNAL;

-- The orgs of a job, as found by the split.
CREATE TABLE job_orgs (
    job_id    uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    org_index int NOT NULL,
    org_id    text NOT NULL,
    present   boolean,
    PRIMARY KEY (job_id, org_index)
);

-- Units of work: a run of steps of one org in one stage, or one chunk of a
-- large array. Units of one org and stage run in seq order.
CREATE TABLE job_units (
    job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stage      int NOT NULL,
    org_index  int NOT NULL,
    seq        int NOT NULL,
    steps      text[] NOT NULL,
    field      text NOT NULL DEFAULT '',
    first_item int NOT NULL DEFAULT 0,
    src_start  bigint NOT NULL,
    src_end    bigint NOT NULL,
    done       boolean NOT NULL DEFAULT false,
    counts     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, stage, org_index, seq)
);
CREATE INDEX job_units_pending ON job_units (job_id, stage) WHERE NOT done;

-- Per-entity outcomes. outcome is 'ok', 'error' or 'skipped'.
CREATE TABLE job_results (
    job_id    uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    org_index int NOT NULL,
    step      int NOT NULL,
    item      int NOT NULL,
    sub       int NOT NULL DEFAULT 0,
    pass      int NOT NULL,
    outcome   text NOT NULL,
    type      text NOT NULL,
    id        text NOT NULL,
    message   text,
    f1        text,
    f2        text,
    f3        text,
    f4        text,
    PRIMARY KEY (job_id, org_index, step, item, sub)
);
CREATE INDEX job_results_errors ON job_results (job_id, pass, org_index, step, item, sub) WHERE outcome = 'error';
