-- The org policies and texts of an import (reference §2.6.4 steps 2, 4, 5,
-- 8 to 12): at most one policy of each kind per org, one set of login texts
-- per org and language, one message text per org, message type and
-- language. Enums are stored by their canonical names, durations as
-- intervals (microseconds), texts as given.

CREATE TABLE domain_policies (
    instance_id                                 text NOT NULL,
    org_id                                      text NOT NULL,
    user_login_must_be_domain                   boolean NOT NULL DEFAULT false,
    validate_org_domains                        boolean NOT NULL DEFAULT false,
    smtp_sender_address_matches_instance_domain boolean NOT NULL DEFAULT false,
    PRIMARY KEY (instance_id, org_id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- A label policy is added and activated at once, as ZITADEL's import does.
CREATE TABLE label_policies (
    instance_id            text NOT NULL,
    org_id                 text NOT NULL,
    primary_color          text NOT NULL DEFAULT '',
    hide_login_name_suffix boolean NOT NULL DEFAULT false,
    warn_color             text NOT NULL DEFAULT '',
    background_color       text NOT NULL DEFAULT '',
    font_color             text NOT NULL DEFAULT '',
    primary_color_dark     text NOT NULL DEFAULT '',
    background_color_dark  text NOT NULL DEFAULT '',
    warn_color_dark        text NOT NULL DEFAULT '',
    font_color_dark        text NOT NULL DEFAULT '',
    disable_watermark      boolean NOT NULL DEFAULT false,
    theme_mode             text NOT NULL DEFAULT 'THEME_MODE_UNSPECIFIED',
    PRIMARY KEY (instance_id, org_id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE lockout_policies (
    instance_id           text NOT NULL,
    org_id                text NOT NULL,
    max_password_attempts bigint NOT NULL DEFAULT 0 CHECK (max_password_attempts BETWEEN 0 AND 4294967295),
    max_otp_attempts      bigint NOT NULL DEFAULT 0 CHECK (max_otp_attempts BETWEEN 0 AND 4294967295),
    PRIMARY KEY (instance_id, org_id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- A lifetime is NULL when the import did not give it. second_factors and
-- multi_factors keep the order given.
CREATE TABLE login_policies (
    instance_id                   text NOT NULL,
    org_id                        text NOT NULL,
    allow_username_password       boolean NOT NULL DEFAULT false,
    allow_register                boolean NOT NULL DEFAULT false,
    allow_external_idp            boolean NOT NULL DEFAULT false,
    force_mfa                     boolean NOT NULL DEFAULT false,
    passwordless_type             text NOT NULL DEFAULT 'PASSWORDLESS_TYPE_NOT_ALLOWED',
    hide_password_reset           boolean NOT NULL DEFAULT false,
    ignore_unknown_usernames      boolean NOT NULL DEFAULT false,
    default_redirect_uri          text NOT NULL DEFAULT '',
    password_check_lifetime       interval,
    external_login_check_lifetime interval,
    mfa_init_skip_lifetime        interval,
    second_factor_check_lifetime  interval,
    multi_factor_check_lifetime   interval,
    second_factors                text[] NOT NULL DEFAULT '{}',
    multi_factors                 text[] NOT NULL DEFAULT '{}',
    allow_domain_discovery        boolean NOT NULL DEFAULT false,
    disable_login_with_email      boolean NOT NULL DEFAULT false,
    disable_login_with_phone      boolean NOT NULL DEFAULT false,
    force_mfa_local_only          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (instance_id, org_id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- The IdPs of a login policy, in the order given (position from 0).
CREATE TABLE login_policy_idps (
    instance_id text NOT NULL,
    org_id      text NOT NULL,
    idp_id      text NOT NULL,
    owner_type  text NOT NULL CHECK (owner_type IN ('IDP_OWNER_TYPE_SYSTEM', 'IDP_OWNER_TYPE_ORG')),
    position    int NOT NULL,
    PRIMARY KEY (instance_id, org_id, idp_id),
    UNIQUE (instance_id, org_id, position),
    FOREIGN KEY (instance_id, org_id) REFERENCES login_policies (instance_id, org_id) ON DELETE CASCADE
);

CREATE TABLE password_complexity_policies (
    instance_id   text NOT NULL,
    org_id        text NOT NULL,
    min_length    bigint NOT NULL CHECK (min_length BETWEEN 1 AND 72),
    has_uppercase boolean NOT NULL DEFAULT false,
    has_lowercase boolean NOT NULL DEFAULT false,
    has_number    boolean NOT NULL DEFAULT false,
    has_symbol    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (instance_id, org_id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE privacy_policies (
    instance_id      text NOT NULL,
    org_id           text NOT NULL,
    tos_link         text NOT NULL DEFAULT '',
    privacy_link     text NOT NULL DEFAULT '',
    help_link        text NOT NULL DEFAULT '',
    support_email    text NOT NULL DEFAULT '',
    docs_link        text NOT NULL DEFAULT '',
    custom_link      text NOT NULL DEFAULT '',
    custom_link_text text NOT NULL DEFAULT '',
    PRIMARY KEY (instance_id, org_id),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- Login texts: language as given, language_tag its canonical BCP 47 form
-- (the key), texts the element of loginTexts exactly as given (its screen
-- texts and the language).
CREATE TABLE login_texts (
    instance_id  text NOT NULL,
    org_id       text NOT NULL,
    language     text NOT NULL,
    language_tag text NOT NULL,
    texts        jsonb NOT NULL,
    PRIMARY KEY (instance_id, org_id, language_tag),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);

-- Message texts of all types, named by ZITADEL's message text types. An SMS
-- OTP text has only a text.
CREATE TABLE message_texts (
    instance_id  text NOT NULL,
    org_id       text NOT NULL,
    message_type text NOT NULL CHECK (message_type IN ('InitCode', 'PasswordReset', 'VerifyEmail', 'VerifyPhone',
        'DomainClaimed', 'PasswordlessRegistration', 'InviteUser', 'VerifySMSOTP', 'VerifyEmailOTP')),
    language     text NOT NULL,
    language_tag text NOT NULL,
    title        text NOT NULL DEFAULT '',
    pre_header   text NOT NULL DEFAULT '',
    subject      text NOT NULL DEFAULT '',
    greeting     text NOT NULL DEFAULT '',
    text         text NOT NULL DEFAULT '',
    button_text  text NOT NULL DEFAULT '',
    footer_text  text NOT NULL DEFAULT '',
    PRIMARY KEY (instance_id, org_id, message_type, language_tag),
    FOREIGN KEY (instance_id, org_id) REFERENCES orgs (instance_id, id) ON DELETE CASCADE
);
