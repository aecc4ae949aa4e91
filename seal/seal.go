// Package seal encrypts secrets at rest with AES-256-GCM.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrOpen is returned when a sealed value cannot be decrypted: wrong key or tampered data.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Box seals and opens byte strings with one key.
type Box struct {
	aead cipher.AEAD
	// macKey keys Digest; it is derived from the key, never the key itself.
	macKey []byte
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("seal: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	derive := hmac.New(sha256.New, key)
	derive.Write([]byte("zimport digest key"))
	return &Box{aead: aead, macKey: derive.Sum(nil)}, nil
}

// Digest returns a keyed digest (HMAC-SHA256) of data: equal data give
// equal digests, and without the key a digest cannot be checked against
// guesses of a secret the data holds.
func (b *Box) Digest(data []byte) []byte {
	m := hmac.New(sha256.New, b.macKey)
	m.Write(data)
	return m.Sum(nil)
}

// Seal encrypts plain; the result holds the nonce followed by the ciphertext.
func (b *Box) Seal(plain []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("seal: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return b.aead.Seal(nonce, nonce, plain, nil)
}

// Open decrypts a value made by Seal. It returns ErrOpen when it cannot.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
