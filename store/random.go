package store

import (
	"crypto/rand"
	"math/big"
)

// Generated values: ids like ZITADEL's, and secrets (client secrets,
// passwordless codes) from crypto/rand.Text, 26 base32 characters (130 bits).

var (
	idMin   = big.NewInt(100_000_000_000_000_000) // 10^17: 18 digits
	idRange = big.NewInt(900_000_000_000_000_000)
)

// randomID returns a random 18-digit decimal id, like ZITADEL's generated
// ids. Unique constraints turn the rare collision into an insert that does
// not happen, reported like a conflict with a parallel unit.
func randomID() string {
	n, err := rand.Int(rand.Reader, idRange)
	if err != nil {
		panic("store: no randomness: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, idMin).String()
}
