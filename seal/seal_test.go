package seal

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestBox_SealOpen(t *testing.T) {
	box, err := NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal([]byte("secret-pat"))
	if bytes.Contains(sealed, []byte("secret-pat")) {
		t.Fatal("sealed value contains the plain text")
	}
	got, err := box.Open(sealed)
	if err != nil || string(got) != "secret-pat" {
		t.Fatalf("Open = %q, %v; want secret-pat", got, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.Open(sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open(tampered) err = %v, want ErrOpen", err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(box.Seal([]byte("x"))); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open with other key err = %v, want ErrOpen", err)
	}
	if _, err := NewBox([]byte("short")); err == nil {
		t.Fatal("NewBox(short key) succeeded")
	}
}

func TestDigest(t *testing.T) {
	key := make([]byte, 32)
	b1, _ := NewBox(key)
	key[0] = 1
	b2, _ := NewBox(key)
	data := []byte(`{"secretAccessKey":"minioadmin"}`)
	if !bytes.Equal(b1.Digest(data), b1.Digest(data)) {
		t.Error("equal data give different digests")
	}
	if bytes.Equal(b1.Digest(data), b2.Digest(data)) {
		t.Error("the digest does not depend on the key")
	}
	if plain := sha256.Sum256(data); bytes.Equal(b1.Digest(data), plain[:]) {
		t.Error("the digest is a plain SHA-256")
	}
}
