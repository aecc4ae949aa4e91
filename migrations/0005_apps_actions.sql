-- Applications of projects, their keys, actions, trigger actions and
-- project grant members. Enums are stored by their proto names, durations
-- as protojson text ("1.500s").

-- apps holds OIDC and API applications; the OIDC columns are NULL for API
-- apps. client_id is generated at import (a random 18-digit number, as
-- ZITADEL's ids); client_secret_hash is the bcrypt hash of a secret
-- generated for the methods that need one (OIDC BASIC and POST, API BASIC),
-- never shown to anyone, as ZITADEL's import does not return it either.
CREATE TABLE apps (
    instance_id                  text NOT NULL,
    id                           text NOT NULL,
    org_id                       text NOT NULL,
    project_id                   text NOT NULL,
    kind                         text NOT NULL CHECK (kind IN ('oidc', 'api')),
    name                         text NOT NULL,
    client_id                    text NOT NULL,
    client_secret_hash           text,
    auth_method_type             text NOT NULL,
    redirect_uris                text[],
    response_types               text[],
    grant_types                  text[],
    app_type                     text,
    post_logout_redirect_uris    text[],
    version                      text,
    dev_mode                     boolean,
    access_token_type            text,
    access_token_role_assertion  boolean,
    id_token_role_assertion      boolean,
    id_token_userinfo_assertion  boolean,
    clock_skew                   text,
    additional_origins           text[],
    skip_native_app_success_page boolean,
    back_channel_logout_uri      text,
    -- login_version is NULL when loginVersion is absent, else 'v1' or 'v2';
    -- login_base_uri is loginV2.baseUri, NULL when absent.
    login_version                text CHECK (login_version IN ('v1', 'v2')),
    login_base_uri               text,
    created_at                   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id),
    UNIQUE (instance_id, client_id),
    UNIQUE (instance_id, project_id, name),
    FOREIGN KEY (instance_id, project_id) REFERENCES projects (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- app_keys are public keys of applications that authenticate with
-- PRIVATE_KEY_JWT; client_id is stored as given.
CREATE TABLE app_keys (
    instance_id text NOT NULL,
    id          text NOT NULL,
    project_id  text NOT NULL,
    app_id      text NOT NULL,
    client_id   text NOT NULL DEFAULT '',
    key_type    text NOT NULL,
    public_key  bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id),
    FOREIGN KEY (instance_id, app_id) REFERENCES apps (instance_id, id) ON DELETE CASCADE
);

-- Action names are unique per org, as in ZITADEL.
CREATE TABLE actions (
    instance_id     text NOT NULL,
    id              text NOT NULL,
    org_id          text NOT NULL,
    name            text NOT NULL,
    script          text NOT NULL,
    timeout         text NOT NULL DEFAULT '0s',
    allowed_to_fail boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id),
    UNIQUE (instance_id, org_id, name),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- trigger_actions are the actions an org runs for a trigger of a flow, in
-- order; flow_type and trigger_type are ZITADEL's numbers (the ids of the v2
-- format: 1 external authentication, 2 customise token, ...).
CREATE TABLE trigger_actions (
    instance_id  text NOT NULL,
    org_id       text NOT NULL,
    flow_type    int NOT NULL CHECK (flow_type BETWEEN 1 AND 4),
    trigger_type int NOT NULL CHECK (trigger_type BETWEEN 1 AND 6),
    action_ids   text[] NOT NULL,
    PRIMARY KEY (instance_id, org_id, flow_type, trigger_type),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- project_grant_members: one member per user and project grant; org_id is
-- the org whose data listed the member (the project's or the granted org).
CREATE TABLE project_grant_members (
    instance_id text NOT NULL,
    grant_id    text NOT NULL,
    user_id     text NOT NULL,
    project_id  text NOT NULL,
    org_id      text NOT NULL,
    roles       text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (instance_id, grant_id, user_id),
    FOREIGN KEY (instance_id, grant_id) REFERENCES project_grants (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);
