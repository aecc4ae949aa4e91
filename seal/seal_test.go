package seal

import (
	"bytes"
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
