package source

import (
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// Retries wait a millisecond, not seconds: the tests that make reads
	// fail count the attempts, never the time.
	firstBackoff = time.Millisecond
	os.Exit(m.Run())
}
