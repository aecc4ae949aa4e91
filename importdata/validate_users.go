package importdata

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// MaxMetadataBytes is the largest user metadata value, in bytes (decoded).
const MaxMetadataBytes = 500000

// Validate checks an OIDC IdP. Its messages never quote a value, so the
// client secret cannot leak into a result.
func (d *DataOIDCIDP) Validate(path string) error {
	p := NewProblems(path)
	p.Len("idpId", d.IDPID, 1, 200)
	p.Len("idp.name", d.IDP.Name, 1, 200)
	p.Len("idp.clientId", d.IDP.ClientID, 1, 200)
	p.Len("idp.clientSecret", d.IDP.ClientSecret, 1, 200)
	p.Len("idp.issuer", d.IDP.Issuer, 1, 200)
	for i, s := range d.IDP.Scopes {
		p.NoNUL(fmt.Sprintf("idp.scopes[%d]", i), s)
	}
	return p.Err()
}

// Validate checks a JWT IdP.
func (d *DataJWTIDP) Validate(path string) error {
	p := NewProblems(path)
	p.Len("idpId", d.IDPID, 1, 200)
	p.Len("idp.name", d.IDP.Name, 1, 200)
	p.Len("idp.jwtEndpoint", d.IDP.JWTEndpoint, 1, 200)
	p.Len("idp.issuer", d.IDP.Issuer, 1, 200)
	p.Len("idp.keysEndpoint", d.IDP.KeysEndpoint, 1, 200)
	p.Len("idp.headerName", d.IDP.HeaderName, 1, 200)
	return p.Err()
}

// Validate checks a user metadata entry: the user id and key, and a value
// of 1 to MaxMetadataBytes bytes.
func (m *SetUserMetadataRequest) Validate(path string) error {
	p := NewProblems(path)
	p.Len("id", m.ID, 1, 200)
	p.Len("key", m.Key, 1, 200)
	switch n := len(m.Value); {
	case n == 0:
		p.add("value", "is required")
	case n > MaxMetadataBytes:
		p.add("value", fmt.Sprintf("at most %d bytes", MaxMetadataBytes))
	}
	return p.Err()
}

// Validate checks a machine key: its ids, and that publicKey holds a
// PEM-encoded PKIX public key (of any algorithm x509 knows, as ZITADEL
// accepts). The expiration date is checked when the key is imported.
func (k *DataMachineKey) Validate(path string) error {
	p := NewProblems(path)
	p.Len("keyId", k.KeyID, 1, 200)
	p.Len("userId", k.UserID, 1, 200)
	p.publicKey("publicKey", k.PublicKey)
	return p.Err()
}

// publicKey checks that b holds a PEM-encoded PKIX public key.
func (p *Problems) publicKey(field string, b []byte) {
	if len(b) == 0 {
		p.add(field, "is required")
		return
	}
	block, _ := pem.Decode(b)
	if block == nil {
		p.add(field, "is not PEM-encoded (want base64 of \"-----BEGIN PUBLIC KEY-----...\")")
		return
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		p.add(field, "is not a PKIX public key: "+pkixReason(block.Type, err))
	}
}

// pkixReason says why x509.ParsePKIXPublicKey refused the DER of a PEM block
// of type blockType. The asn1 package's errors, which describe Go struct
// tags, are replaced by what they mean for the key.
func pkixReason(blockType string, err error) string {
	if blockType == "RSA PUBLIC KEY" || strings.Contains(err.Error(), "ParsePKCS1PublicKey") {
		return `a PKCS #1 RSA key ("RSA PUBLIC KEY"); convert it to PKIX ("PUBLIC KEY"), e.g. with openssl rsa -RSAPublicKey_in -pubout`
	}
	var structural asn1.StructuralError
	var syntax asn1.SyntaxError
	if errors.As(err, &structural) || errors.As(err, &syntax) {
		return fmt.Sprintf("the %q block holds no DER-encoded SubjectPublicKeyInfo", blockType)
	}
	return strings.TrimPrefix(err.Error(), "x509: ")
}

// Validate checks a user's link to an IdP.
func (l *IDPUserLink) Validate(path string) error {
	p := NewProblems(path)
	p.Len("userId", l.UserID, 1, 200)
	p.Len("idpId", l.IDPID, 1, 200)
	p.Len("providedUserId", l.ProvidedUserID, 1, 200)
	p.Len("providedUserName", l.ProvidedUserName, 0, 200)
	p.Len("idpName", l.IDPName, 0, 200)
	return p.Err()
}

// validateHumanIDPs checks the IdP links of a human user (user.idps).
func validateHumanIDPs(p *Problems, idps []HumanIDP) {
	for i, l := range idps {
		f := fmt.Sprintf("user.idps[%d].", i)
		p.Len(f+"configId", l.ConfigID, 1, 200)
		p.Len(f+"externalUserId", l.ExternalUserID, 1, 200)
		p.Len(f+"displayName", l.DisplayName, 0, 200)
	}
}

// minOTPChars is the shortest TOTP secret accepted, in base32 characters:
// 80 bits, the size authenticator apps have long used (RFC 4226 asks for
// 128 at least, which would refuse many secrets worth migrating).
const minOTPChars = 16

// ValidateOTPCode checks a human user's otpCode, at path: a TOTP secret in
// base32 (RFC 4648, either case, padding optional) of 16 to 200
// characters. The message never quotes the secret.
func ValidateOTPCode(path, code string) error {
	p := NewProblems(path)
	p.Len("otpCode", code, 1, 200)
	if len(p.list) == 0 {
		s := strings.TrimRight(strings.ToUpper(code), "=")
		switch {
		case len(s) < minOTPChars:
			p.add("otpCode", fmt.Sprintf("a TOTP secret of at least %d base32 characters (80 bits) is required", minOTPChars))
		default:
			s += strings.Repeat("=", (8-len(s)%8)%8) // the strict decoder checks the length
			if _, err := base32.StdEncoding.DecodeString(s); err != nil {
				p.add("otpCode", "is not a base32 TOTP secret")
			}
		}
	}
	return p.Err()
}
