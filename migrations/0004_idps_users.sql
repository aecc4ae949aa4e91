-- Org IdPs (ZITADEL's org IdP configs) and what hangs off users: OTP
-- secrets, passwordless registration codes, metadata, machine keys, IdP links.

-- idps holds OIDC and JWT IdPs. Names are unique per org (ZITADEL's
-- idp_config_names). The OIDC client secret is sealed (AES-256-GCM with
-- ZIMPORT_ENCRYPTION_KEY, nonce first); enums are stored by name.
CREATE TABLE idps (
    instance_id          text NOT NULL,
    id                   text NOT NULL,
    org_id               text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('oidc', 'jwt')),
    name                 text NOT NULL,
    styling_type         text NOT NULL DEFAULT 'STYLING_TYPE_UNSPECIFIED',
    auto_register        boolean NOT NULL DEFAULT false,
    issuer               text NOT NULL,
    -- OIDC
    client_id            text,
    client_secret_sealed bytea,
    scopes               text[],
    display_name_mapping text,
    username_mapping     text,
    -- JWT
    jwt_endpoint         text,
    keys_endpoint        text,
    header_name          text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE,
    CHECK (kind <> 'oidc' OR (client_id IS NOT NULL AND client_secret_sealed IS NOT NULL AND scopes IS NOT NULL
        AND display_name_mapping IS NOT NULL AND username_mapping IS NOT NULL)),
    CHECK (kind <> 'jwt' OR (jwt_endpoint IS NOT NULL AND keys_endpoint IS NOT NULL AND header_name IS NOT NULL))
);
CREATE UNIQUE INDEX idps_name_key ON idps (instance_id, org_id, name);

-- A human user's TOTP secret, sealed like the IdP client secrets; imported
-- secrets are verified (ready) at once, as ZITADEL's ImportHumanTOTP does.
CREATE TABLE user_otp (
    instance_id   text NOT NULL,
    user_id       text NOT NULL,
    secret_sealed bytea NOT NULL,
    verified      boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, user_id),
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE
);

-- One-time passwordless (passkey) registration codes of imported users
-- (requestPasswordlessRegistration): only a SHA-256 of the code is stored;
-- the link with the code is in the job's result.
CREATE TABLE passwordless_codes (
    instance_id text NOT NULL,
    id          text NOT NULL,
    user_id     text NOT NULL,
    code_hash   bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, id),
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE
);
CREATE INDEX passwordless_codes_user ON passwordless_codes (instance_id, user_id);

CREATE TABLE user_metadata (
    instance_id text NOT NULL,
    user_id     text NOT NULL,
    key         text NOT NULL,
    value       bytea NOT NULL CHECK (octet_length(value) BETWEEN 1 AND 500000),
    PRIMARY KEY (instance_id, user_id, key),
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE
);

-- Imported machine keys: public_key holds the DER (PKIX) key as for the keys
-- that instance creation makes, public_key_pem the PEM bytes as imported
-- (NULL for generated keys).
ALTER TABLE machine_keys ADD COLUMN public_key_pem bytea;
ALTER TABLE machine_keys ADD FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE;
CREATE INDEX machine_keys_user ON machine_keys (instance_id, user_id);

-- Links of users to IdPs: one per (IdP, external user id) in an instance
-- (ZITADEL's idp_user_link constraint). source says where the link came
-- from: a human user's user.idps ('human_user') or userLinks ('user_link');
-- idp_name and idp_type are userLinks' idpName and idpType as given.
CREATE TABLE user_links (
    instance_id      text NOT NULL,
    idp_id           text NOT NULL,
    external_user_id text NOT NULL,
    user_id          text NOT NULL,
    display_name     text NOT NULL DEFAULT '',
    source           text NOT NULL CHECK (source IN ('human_user', 'user_link')),
    idp_name         text,
    idp_type         text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, idp_id, external_user_id),
    FOREIGN KEY (instance_id, user_id) REFERENCES users (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, idp_id) REFERENCES idps (instance_id, id) ON DELETE CASCADE
);
CREATE INDEX user_links_user ON user_links (instance_id, user_id);
