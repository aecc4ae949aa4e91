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
	// A stalled read is given up after 2 s (TestS3_StalledStream).
	stallTimeout = 2 * time.Second
	os.Exit(m.Run())
}
