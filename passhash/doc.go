// Package passhash recognises the encoded password hashes zimport accepts in
// hashedPassword.value: the encodings ZITADEL's password verifiers
// (zitadel/passwap) parse, as listed in §5 of the reference semantics.
//
// Identify checks the syntax of one encoded hash and names its Scheme:
//
//	bcrypt          $2a$ $2b$ $2y$ NN$ + 53 characters            (cost 04..31)
//	argon2i/id      $argon2i$ $argon2id$ v=19$m=M,t=T,p=P$salt$hash (unpadded base64)
//	md5-crypt       $1$salt$hash                                    (salt 1..8, hash 22)
//	sha256-crypt    $5$[rounds=N$]salt$hash                         (salt 1..16, hash 43)
//	sha512-crypt    $6$[rounds=N$]salt$hash                         (salt 1..16, hash 86)
//	scrypt          $scrypt$ln=L,r=R,p=P$salt$hash, same after $7$  (unpadded base64)
//	scrypt-crypt    $7$ + N, r, p, salt in crypt base64 + $ + 43    (libxcrypt; passwap cannot parse it)
//	pbkdf2-sha*     $pbkdf2$ (SHA-1), $pbkdf2-sha224$ … -sha512$ rounds$salt$hash
//	phpass          $P$ $H$ + 31 characters
//	md5salted-*     $md5salted-suffix$salt$hash, $md5salted-prefix$…  (hash 16 bytes)
//	md5plain        32 hexadecimal digits
//
// It is strict where a real encoder is strict, to catch truncated or garbled
// values before they are stored (lengths, alphabets, canonical base64,
// parameter ranges), and no stricter: it does not apply a cost policy, and it
// cannot tell whether a hash matches any password.
//
// Scheme.Verifier names the verifier a ZITADEL instance must have configured
// for logins with such a hash; ZITADEL's default configuration verifies
// bcrypt only.
package passhash
