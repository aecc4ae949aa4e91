-- ZITADEL's default instance policies (cmd/defaults.yaml, DefaultInstance),
-- by kind, in the JSON of ZITADEL's policy messages (durations as proto
-- JSON). New instances get a copy; so do the instances that exist now.
CREATE TABLE default_policies (
    kind   text PRIMARY KEY,
    policy jsonb NOT NULL
);
INSERT INTO default_policies (kind, policy) VALUES
    ('password_complexity', '{"minLength": 8, "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true}'),
    ('password_age', '{"expireWarnDays": 0, "maxAgeDays": 0}'),
    ('domain', '{"userLoginMustBeDomain": false, "validateOrgDomains": false, "smtpSenderAddressMatchesInstanceDomain": false}'),
    ('login', '{"allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true, "forceMfa": false,
        "forceMfaLocalOnly": false, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "hidePasswordReset": false,
        "ignoreUnknownUsernames": false, "allowDomainDiscovery": true, "disableLoginWithEmail": false,
        "disableLoginWithPhone": false, "defaultRedirectUri": "", "passwordCheckLifetime": "864000s",
        "externalLoginCheckLifetime": "864000s", "mfaInitSkipLifetime": "2592000s",
        "secondFactorCheckLifetime": "64800s", "multiFactorCheckLifetime": "43200s"}'),
    ('lockout', '{"maxPasswordAttempts": 0, "maxOtpAttempts": 0, "showLockoutFailure": true}'),
    ('privacy', '{"tosLink": "", "privacyLink": "", "helpLink": "", "supportEmail": "", "docsLink": "https://zitadel.com/docs",
        "customLink": "", "customLinkText": ""}'),
    ('label', '{"primaryColor": "#5469d4", "backgroundColor": "#fafafa", "warnColor": "#cd3d56", "fontColor": "#000000",
        "primaryColorDark": "#2073c4", "backgroundColorDark": "#111827", "warnColorDark": "#ff3b5b",
        "fontColorDark": "#ffffff", "hideLoginNameSuffix": false, "errorMsgPopup": false, "disableWatermark": false}'),
    ('notification', '{"passwordChange": true}');

-- The default policies of each instance, which apply wherever an org has
-- no policy of its own.
CREATE TABLE instance_policies (
    instance_id text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    policy      jsonb NOT NULL,
    PRIMARY KEY (instance_id, kind)
);
INSERT INTO instance_policies (instance_id, kind, policy)
    SELECT i.id, d.kind, d.policy FROM instances i CROSS JOIN default_policies d;
