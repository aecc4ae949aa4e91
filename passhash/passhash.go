package passhash

import (
	"errors"
	"fmt"
	"strings"
)

// Scheme names a password hash encoding zimport accepts.
type Scheme string

// The schemes Identify returns.
const (
	Bcrypt          Scheme = "bcrypt"           // $2a$, $2b$, $2y$
	Argon2i         Scheme = "argon2i"          // $argon2i$
	Argon2id        Scheme = "argon2id"         // $argon2id$
	MD5Crypt        Scheme = "md5-crypt"        // $1$
	SHA256Crypt     Scheme = "sha256-crypt"     // $5$
	SHA512Crypt     Scheme = "sha512-crypt"     // $6$
	Scrypt          Scheme = "scrypt"           // $scrypt$ln=…, or $7$ln=…
	ScryptCrypt     Scheme = "scrypt-crypt"     // $7$ in libxcrypt's layout (see checkScryptCrypt)
	PBKDF2SHA1      Scheme = "pbkdf2-sha1"      // $pbkdf2$
	PBKDF2SHA224    Scheme = "pbkdf2-sha224"    // $pbkdf2-sha224$
	PBKDF2SHA256    Scheme = "pbkdf2-sha256"    // $pbkdf2-sha256$
	PBKDF2SHA384    Scheme = "pbkdf2-sha384"    // $pbkdf2-sha384$
	PBKDF2SHA512    Scheme = "pbkdf2-sha512"    // $pbkdf2-sha512$
	PHPass          Scheme = "phpass"           // $P$, $H$
	MD5Plain        Scheme = "md5plain"         // 32 hex digits
	MD5SaltedSuffix Scheme = "md5salted-suffix" // $md5salted-suffix$: MD5(password+salt)
	MD5SaltedPrefix Scheme = "md5salted-prefix" // $md5salted-prefix$: MD5(salt+password)
)

// Verifier returns the name of the ZITADEL password verifier for s, the entry
// an instance needs in SystemDefaults.PasswordHasher.Verifiers before users
// with such a hash can log in ("bcrypt", "argon2", "md5", "sha2", "scrypt",
// "pbkdf2", "phpass", "md5plain", "md5salted"), or "" for an unknown scheme.
func (s Scheme) Verifier() string {
	switch s {
	case Bcrypt:
		return "bcrypt"
	case Argon2i, Argon2id:
		return "argon2"
	case MD5Crypt:
		return "md5"
	case SHA256Crypt, SHA512Crypt:
		return "sha2"
	case Scrypt, ScryptCrypt:
		return "scrypt"
	case PBKDF2SHA1, PBKDF2SHA224, PBKDF2SHA256, PBKDF2SHA384, PBKDF2SHA512:
		return "pbkdf2"
	case PHPass:
		return "phpass"
	case MD5Plain:
		return "md5plain"
	case MD5SaltedSuffix, MD5SaltedPrefix:
		return "md5salted"
	}
	return ""
}

// ErrUnsupported is wrapped by every error Identify returns. Its message is
// the entity error of an import; the wrapping error adds a short reason.
var ErrUnsupported = errors.New("password hash encoding not supported")

// MaxLen is the longest encoded hash Identify accepts, in bytes. The longest
// real encodings (pbkdf2-sha512 with a 1024-bit key) are under 200.
const MaxLen = 1024

// reasonError is ErrUnsupported with a reason. The reason never contains the
// encoded hash: a hash, or a password pasted in its place, must not reach
// logs or results.
type reasonError struct{ reason string }

func (e *reasonError) Error() string { return ErrUnsupported.Error() + ": " + e.reason }
func (e *reasonError) Unwrap() error { return ErrUnsupported }

func fail(reason string) error { return &reasonError{reason} }

func failf(format string, args ...any) error {
	return &reasonError{fmt.Sprintf(format, args...)}
}

// Identify returns the scheme of encoded, a hashedPassword.value, or an error
// wrapping ErrUnsupported with a short reason ("bcrypt cost 99 out of range
// 4..31") when encoded is in no format zimport accepts or is malformed for its
// prefix: a wrong length, a character outside the format's alphabet, base64
// that does not decode canonically, a parameter out of range, surrounding
// whitespace. The error never quotes encoded. Identify checks syntax only; it
// does not allocate unless it returns an error.
func Identify(encoded string) (Scheme, error) {
	switch {
	case encoded == "":
		return "", fail("empty")
	case len(encoded) > MaxLen:
		return "", failf("longer than %d characters", MaxLen)
	case isSpace(encoded[0]) || isSpace(encoded[len(encoded)-1]):
		return "", fail("leading or trailing whitespace")
	case encoded[0] != '$':
		return identifyHex(encoded)
	}
	id, rest, ok := strings.Cut(encoded[1:], "$")
	if !ok {
		return "", fail(`no "$" after the scheme identifier`)
	}
	switch id {
	case "2a", "2b", "2y":
		return result(Bcrypt, checkBcrypt(rest))
	case "argon2i":
		return result(Argon2i, checkArgon2(rest))
	case "argon2id":
		return result(Argon2id, checkArgon2(rest))
	case "1":
		return result(MD5Crypt, checkMD5Crypt(rest))
	case "5":
		return result(SHA256Crypt, checkSHACrypt(rest, 32))
	case "6":
		return result(SHA512Crypt, checkSHACrypt(rest, 64))
	case "scrypt":
		return result(Scrypt, checkScrypt(rest))
	case "7":
		if strings.HasPrefix(rest, "ln=") {
			return result(Scrypt, checkScrypt(rest))
		}
		return result(ScryptCrypt, checkScryptCrypt(rest))
	case "pbkdf2":
		return result(PBKDF2SHA1, checkPBKDF2(PBKDF2SHA1, rest, 20))
	case "pbkdf2-sha224":
		return result(PBKDF2SHA224, checkPBKDF2(PBKDF2SHA224, rest, 28))
	case "pbkdf2-sha256":
		return result(PBKDF2SHA256, checkPBKDF2(PBKDF2SHA256, rest, 32))
	case "pbkdf2-sha384":
		return result(PBKDF2SHA384, checkPBKDF2(PBKDF2SHA384, rest, 48))
	case "pbkdf2-sha512":
		return result(PBKDF2SHA512, checkPBKDF2(PBKDF2SHA512, rest, 64))
	case "P", "H":
		return result(PHPass, checkPHPass(encoded))
	case "md5salted-suffix":
		return result(MD5SaltedSuffix, checkMD5Salted(rest))
	case "md5salted-prefix":
		return result(MD5SaltedPrefix, checkMD5Salted(rest))
	}
	return "", unknownID(id)
}

func result(s Scheme, err error) (Scheme, error) {
	if err != nil {
		return "", err
	}
	return s, nil
}

// unknownID explains the identifiers people are likely to try. Only
// identifiers of at most two characters are quoted.
func unknownID(id string) error {
	switch {
	case id == "2" || len(id) == 2 && id[0] == '2':
		return failf("bcrypt variant $%s$ not supported, want $2a$, $2b$ or $2y$", id)
	case id == "argon2d":
		return fail("argon2d not supported, want argon2i or argon2id")
	case id == "S":
		return fail("drupal7 ($S$) not supported")
	case id == "y" || id == "gy":
		return fail("yescrypt ($y$) not supported")
	case id == "apr1":
		return fail("Apache apr1 MD5 not supported")
	case strings.HasPrefix(id, "pbkdf2"):
		return fail("pbkdf2 digest not supported, want $pbkdf2$ (SHA-1) or $pbkdf2-sha224$, -sha256$, -sha384$, -sha512$")
	case strings.HasPrefix(id, "md5salted"):
		return fail("md5salted variant not supported, want $md5salted-suffix$ or $md5salted-prefix$")
	}
	return fail("unknown scheme identifier")
}

// identifyHex accepts a plain MD5 digest: 32 hexadecimal digits, either case.
func identifyHex(s string) (Scheme, error) {
	for i := 0; i < len(s); i++ {
		if hexVal[s[i]] < 0 {
			return "", fail(`neither Modular Crypt Format ("$id$…") nor a 32-digit hex MD5 digest`)
		}
	}
	if len(s) == 32 {
		return MD5Plain, nil
	}
	if len(s) >= 16 {
		return "", failf("hex digest of %d digits, only unsalted MD5 (32 digits) is supported", len(s))
	}
	return "", fail(`neither Modular Crypt Format ("$id$…") nor a 32-digit hex MD5 digest`)
}

// checkBcrypt checks "NN$" + 22 characters of salt + 31 of checksum after
// "$2a$" (60 characters in all), the layout golang.org/x/crypto/bcrypt parses.
// The checksum must be canonical (x/crypto compares it as a string); the salt
// need not be (x/crypto decodes it leniently, and old encoders left padding
// bits set).
func checkBcrypt(rest string) error {
	cost, body, ok := strings.Cut(rest, "$")
	if !ok || len(cost) != 2 || !isDigit(cost[0]) || !isDigit(cost[1]) {
		return fail(`bcrypt cost must be two digits followed by "$"`)
	}
	if c := int(cost[0]-'0')*10 + int(cost[1]-'0'); c < 4 || c > 31 {
		return failf("bcrypt cost %d out of range 4..31", c)
	}
	if len(body) != 53 {
		return failf("bcrypt salt and checksum have %d characters, want 53", len(body))
	}
	for i := 0; i < len(body); i++ {
		if bcryptAlphabet[body[i]] < 0 {
			return fail("bcrypt salt or checksum has a character outside ./A-Za-z0-9")
		}
	}
	if bcryptAlphabet[body[52]]&0x03 != 0 {
		return fail("bcrypt checksum is not canonical (last character)")
	}
	return nil
}

// checkArgon2 checks "v=19$m=M,t=T,p=P$salt$hash", salt and hash in unpadded
// standard base64, the PHC layout passwap parses (no other parameters).
func checkArgon2(rest string) error {
	v, rest, _ := strings.Cut(rest, "$")
	if !strings.HasPrefix(v, "v=") {
		return fail("argon2 version v=19 missing")
	}
	if n, ok := parseDec(v[2:]); !ok {
		return fail("argon2 version is not a decimal number")
	} else if n != 19 {
		return failf("argon2 version %d not supported, want 19", n)
	}
	params, rest, _ := strings.Cut(rest, "$")
	m, params, ok1 := cutParam(params, "m=", ',')
	t, params, ok2 := cutParam(params, "t=", ',')
	p, params, ok3 := cutParam(params, "p=", 0)
	if !ok1 || !ok2 || !ok3 || params != "" {
		return fail(`argon2 parameters must be "m=<memory>,t=<time>,p=<threads>"`)
	}
	// The format allows up to 2^32-1 for m (KiB) and t; a login could not
	// verify such a hash (4 TiB of memory), so it is refused like scrypt's
	// parameters that no verifier takes.
	switch {
	case m < 1 || m > maxArgon2Memory:
		return failf("argon2 memory m=%d out of range 1..%d (KiB, 4 GiB)", m, maxArgon2Memory)
	case t < 1 || t > maxArgon2Time:
		return failf("argon2 time t=%d out of range 1..%d", t, maxArgon2Time)
	case p < 1 || p > 255:
		return failf("argon2 threads p=%d out of range 1..255", p)
	}
	return checkSaltHash("argon2", rest, 8, 16)
}

// Bounds of argon2's parameters that a login can still verify.
const (
	maxArgon2Memory = 1 << 22 // KiB: 4 GiB
	maxArgon2Time   = 100
)

// checkScrypt checks "ln=L,r=R,p=P$salt$hash", salt and hash in unpadded
// standard base64, passlib's layout, which passwap parses after "$scrypt$"
// and "$7$" alike.
func checkScrypt(rest string) error {
	params, rest, _ := strings.Cut(rest, "$")
	ln, params, ok1 := cutParam(params, "ln=", ',')
	r, params, ok2 := cutParam(params, "r=", ',')
	p, params, ok3 := cutParam(params, "p=", 0)
	if !ok1 || !ok2 || !ok3 || params != "" {
		return fail(`scrypt parameters must be "ln=<log2 N>,r=<block size>,p=<parallelism>"`)
	}
	if err := scryptParams(ln, r, p); err != nil {
		return err
	}
	return checkSaltHash("scrypt", rest, 1, 16)
}

// scryptParams applies golang.org/x/crypto/scrypt's limits on N = 2^ln, r
// and p, as a 64-bit verifier sees them.
func scryptParams(ln, r, p uint64) error {
	const maxInt = 1<<63 - 1
	switch {
	case ln < 1 || ln > 62:
		return failf("scrypt ln=%d out of range 1..62", ln)
	case r < 1 || p < 1:
		return fail("scrypt r and p must be at least 1")
	case r*p >= 1<<30 || r > maxInt/128/p || r > maxInt/256 || 1<<ln > maxInt/128/r:
		return failf("scrypt parameters ln=%d r=%d p=%d too large", ln, r, p)
	}
	return nil
}

// checkSaltHash checks "salt$hash" in unpadded, canonical standard base64
// with at least minSalt and minHash decoded bytes.
func checkSaltHash(name, rest string, minSalt, minHash int) error {
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok {
		return failf("%s salt or hash missing", name)
	}
	if strings.IndexByte(hash, '$') >= 0 {
		return failf("%s has fields after the hash", name)
	}
	n, ok := stdAlphabet.rawLen(salt)
	if !ok {
		return failf("%s salt is not unpadded base64", name)
	}
	if n < minSalt {
		return failf("%s salt has %d bytes, want at least %d", name, n, minSalt)
	}
	if n, ok = stdAlphabet.rawLen(hash); !ok {
		return failf("%s hash is not unpadded base64", name)
	}
	if n < minHash {
		return failf("%s hash has %d bytes, want at least %d", name, n, minHash)
	}
	return nil
}

// checkScryptCrypt loosely checks libxcrypt's "$7$" layout: one character
// for log2 N, five each for r and p, the salt, all in crypt base64, then "$"
// and the 43-character hash. Caution: passwap (v0.12) parses only the
// "$7$ln=…" layout, so ZITADEL cannot verify these at login.
func checkScryptCrypt(rest string) error {
	setting, hash, ok := strings.Cut(rest, "$")
	if !ok || len(setting) < 11 {
		return fail("scrypt-crypt ($7$) setting must be 11 or more characters followed by \"$\"")
	}
	for i := 0; i < len(setting); i++ {
		if cryptAlphabet[setting[i]] < 0 {
			return fail("scrypt-crypt ($7$) setting has a character outside ./0-9A-Za-z")
		}
	}
	if err := scryptParams(uint64(cryptAlphabet[setting[0]]), crypt30(setting[1:6]), crypt30(setting[6:11])); err != nil {
		return err
	}
	if !cryptHash(hash, 32) {
		return fail("scrypt-crypt ($7$) hash must be 43 characters of ./0-9A-Za-z")
	}
	return nil
}

// crypt30 decodes five characters of crypt base64, least significant first.
func crypt30(s string) uint64 {
	var v uint64
	for i := len(s) - 1; i >= 0; i-- {
		v = v<<6 | uint64(cryptAlphabet[s[i]])
	}
	return v
}

// checkMD5Crypt checks "salt$hash" after "$1$": 1..8 salt characters, 22 hash
// characters, crypt base64.
func checkMD5Crypt(rest string) error {
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok {
		return fail("md5-crypt hash missing")
	}
	if !cryptString(salt, 1, 8) {
		return fail("md5-crypt salt must be 1..8 characters of ./0-9A-Za-z")
	}
	if !cryptHash(hash, 16) {
		return fail("md5-crypt hash must be 22 characters of ./0-9A-Za-z")
	}
	return nil
}

// checkSHACrypt checks "[rounds=N$]salt$hash" after "$5$" or "$6$" (size 32
// or 64): rounds 1000..999999999 in canonical decimal (passwap rebuilds the
// string and compares), 1..16 salt characters, a 43 or 86 character hash.
func checkSHACrypt(rest string, size int) error {
	name := "sha256-crypt"
	if size == 64 {
		name = "sha512-crypt"
	}
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		var rounds string
		rounds, rest, _ = strings.Cut(r, "$")
		n, ok := parseDec(rounds)
		if !ok {
			return failf("%s rounds is not a decimal number", name)
		}
		if n < 1000 || n > 999999999 {
			return failf("%s rounds=%d out of range 1000..999999999", name, n)
		}
	}
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok {
		return failf("%s hash missing", name)
	}
	if !cryptString(salt, 1, 16) {
		return failf("%s salt must be 1..16 characters of ./0-9A-Za-z", name)
	}
	if !cryptHash(hash, size) {
		return failf("%s hash must be %d characters of ./0-9A-Za-z", name, (size*8+5)/6)
	}
	return nil
}

// checkPBKDF2 checks "rounds$salt$hash": rounds 1..2^32-1; salt and hash in
// passlib's ab64 ("." for "+") or standard base64, with or without padding
// (passwap accepts both); a hash of the digest's size or of 32, 64 or 128
// bytes (256-, 512- and 1024-bit keys, as Keycloak and Atlassian export).
func checkPBKDF2(name Scheme, rest string, digest int) error {
	rounds, rest, _ := strings.Cut(rest, "$")
	n, ok := parseDec(rounds)
	if !ok {
		return failf("%s rounds is not a decimal number", name)
	}
	if n < 1 || n > 1<<32-1 {
		return failf("%s rounds %d out of range 1..4294967295", name, n)
	}
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok {
		return failf("%s salt or hash missing", name)
	}
	if strings.IndexByte(hash, '$') >= 0 {
		return failf("%s has fields after the hash", name)
	}
	if n, ok := paddedLen(salt); !ok || n == 0 {
		return failf("%s salt is not base64", name)
	}
	size, ok := paddedLen(hash)
	if !ok {
		return failf("%s hash is not base64", name)
	}
	if size != digest && size != 32 && size != 64 && size != 128 {
		if digest == 32 || digest == 64 {
			return failf("%s hash has %d bytes, want 32, 64 or 128", name, size)
		}
		return failf("%s hash has %d bytes, want %d, 32, 64 or 128", name, size, digest)
	}
	return nil
}

// checkPHPass checks "$P$" or "$H$", one character for log2 of the rounds
// (7..30), 8 salt and 22 hash characters of crypt base64: 34 in all.
func checkPHPass(encoded string) error {
	if len(encoded) != 34 {
		return failf("phpass hash has %d characters, want 34", len(encoded))
	}
	if !cryptString(encoded[3:12], 9, 9) || !cryptHash(encoded[12:], 16) {
		return fail("phpass hash has a character outside ./0-9A-Za-z or is not canonical")
	}
	if c := cryptAlphabet[encoded[3]]; c < 7 || c > 30 {
		return failf("phpass rounds 2^%d out of range 2^7..2^30", c)
	}
	return nil
}

// checkMD5Salted checks "salt$hash": the salt is used as written (printable
// ASCII without "$"), the hash is a 16-byte MD5 digest in padded standard
// base64 (24 characters).
func checkMD5Salted(rest string) error {
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok || salt == "" {
		return fail("md5salted salt or hash missing")
	}
	for i := 0; i < len(salt); i++ {
		if salt[i] <= ' ' || salt[i] > '~' {
			return fail("md5salted salt must be printable ASCII without spaces")
		}
	}
	if len(hash) != 24 || !strings.HasSuffix(hash, "==") {
		return fail("md5salted hash must be 24 characters of padded base64 (16 bytes)")
	}
	if n, ok := stdAlphabet.rawLen(hash[:22]); !ok || n != 16 {
		return fail("md5salted hash is not base64")
	}
	return nil
}

// cutParam cuts "<key><decimal><sep>" from the front of s; sep 0 means the
// number runs to the end of s.
func cutParam(s, key string, sep byte) (n uint64, rest string, ok bool) {
	s, ok = strings.CutPrefix(s, key)
	if !ok {
		return 0, "", false
	}
	num := s
	if sep != 0 {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			return 0, "", false
		}
		num, rest = s[:i], s[i+1:]
	}
	n, ok = parseDec(num)
	return n, rest, ok
}

// parseDec parses a canonical unsigned decimal number (no sign, no leading
// zero) of at most 18 digits.
func parseDec(s string) (uint64, bool) {
	if s == "" || len(s) > 18 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// alphabet maps a byte to its 6-bit value in a base64 alphabet, -1 if it is
// not part of it.
type alphabet [256]int8

func newAlphabet(chars string) *alphabet {
	var a alphabet
	for i := range a {
		a[i] = -1
	}
	for i := 0; i < len(chars); i++ {
		a[chars[i]] = int8(i)
	}
	return &a
}

var (
	stdAlphabet    = newAlphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	bcryptAlphabet = newAlphabet("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
	cryptAlphabet  = newAlphabet("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
	// ab64Alphabet is the standard alphabet plus passlib's "." for "+".
	ab64Alphabet = func() *alphabet {
		a := *stdAlphabet
		a['.'] = 62
		return &a
	}()
	hexVal = newAlphabet("0123456789abcdefABCDEF")
)

// rawLen returns the number of bytes s decodes to as unpadded base64 in a
// (most significant bits first), and false if s has a character outside a,
// an impossible length or set padding bits, which no real encoder produces
// (base64.RawStdEncoding.Strict rejects the same strings).
func (a *alphabet) rawLen(s string) (int, bool) {
	if len(s)%4 == 1 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if a[s[i]] < 0 {
			return 0, false
		}
	}
	switch len(s) % 4 {
	case 2:
		if a[s[len(s)-1]]&0x0f != 0 {
			return 0, false
		}
	case 3:
		if a[s[len(s)-1]]&0x03 != 0 {
			return 0, false
		}
	}
	return len(s) * 3 / 4, true
}

// paddedLen is rawLen for pbkdf2 fields: standard base64 or passlib's ab64
// (not both "+" and "." in one field), unpadded or with correct "=" padding.
func paddedLen(s string) (int, bool) {
	body := strings.TrimRight(s, "=")
	if pad := len(s) - len(body); pad > 0 && (pad > 2 || len(s)%4 != 0) {
		return 0, false
	}
	if strings.IndexByte(body, '+') >= 0 && strings.IndexByte(body, '.') >= 0 {
		return 0, false
	}
	return ab64Alphabet.rawLen(body)
}

// cryptString reports whether s has min..max characters of crypt base64.
func cryptString(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if cryptAlphabet[s[i]] < 0 {
			return false
		}
	}
	return true
}

// cryptHash reports whether s is the canonical crypt base64 encoding (least
// significant bits first, as crypt(3) writes it) of size bytes.
func cryptHash(s string, size int) bool {
	chars := (size*8 + 5) / 6
	if !cryptString(s, chars, chars) {
		return false
	}
	spare := chars*6 - size*8 // unused high bits of the last character
	return cryptAlphabet[s[chars-1]]>>(6-spare) == 0
}
