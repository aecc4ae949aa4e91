package config

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

func TestLoad_Defaults(t *testing.T) {
	c, err := Load(env(map[string]string{"ZIMPORT_ENCRYPTION_KEY": key}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.MaxInlineBytes != 64<<20 || c.DefaultTimeout != 30*time.Minute ||
		c.ChunkSize != 1000 || c.BcryptCost != 10 || len(c.SystemTokens) != 0 || len(c.EncryptionKey) != 32 {
		t.Errorf("defaults = %+v", c)
	}
}

func TestLoad_ReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{
		"ZIMPORT_CHUNK_SIZE":      "zero",
		"ZIMPORT_DEFAULT_TIMEOUT": "ten minutes",
		"ZIMPORT_LOG_LEVEL":       "loud",
		"ZIMPORT_ENCRYPTION_KEY":  "c2hvcnQ=",
	}))
	if err == nil {
		t.Fatal("Load accepted bad values")
	}
	for _, want := range []string{"ZIMPORT_CHUNK_SIZE", "ZIMPORT_DEFAULT_TIMEOUT", "ZIMPORT_LOG_LEVEL", "ZIMPORT_ENCRYPTION_KEY must be 32 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestConfig_MaskedHidesSecrets(t *testing.T) {
	c, err := Load(env(map[string]string{
		"ZIMPORT_ENCRYPTION_KEY": key,
		"ZIMPORT_SYSTEM_TOKENS":  "tok-one, tok-two",
		"ZIMPORT_DATABASE_URL":   "postgres://u:hunter2@db:5432/x",
		"ZIMPORT_REDIS_PASSWORD": "redispw",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SystemTokens) != 2 || c.SystemTokens[1] != "tok-two" {
		t.Errorf("tokens = %q", c.SystemTokens)
	}
	for k, v := range c.Masked() {
		for _, secret := range []string{"tok-one", "tok-two", "hunter2", "redispw", key} {
			if strings.Contains(v, secret) {
				t.Errorf("Masked()[%s] = %q shows a secret", k, v)
			}
		}
	}
	if got := c.Masked()["ZIMPORT_DATABASE_URL"]; got != "postgres://u:***@db:5432/x" {
		t.Errorf("masked url = %q", got)
	}
}

func TestLoad_DBMaxConns(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int
	}{
		{"derived from the concurrency", map[string]string{"ZIMPORT_WORKER_CONCURRENCY": "16"}, 20},
		{"zero derives", map[string]string{"ZIMPORT_WORKER_CONCURRENCY": "3", "ZIMPORT_DB_MAX_CONNS": "0"}, 7},
		{"explicit", map[string]string{"ZIMPORT_WORKER_CONCURRENCY": "16", "ZIMPORT_DB_MAX_CONNS": "9"}, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["ZIMPORT_ENCRYPTION_KEY"] = key
			c, err := Load(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.DBMaxConns != tc.want {
				t.Errorf("DBMaxConns = %d, want %d", c.DBMaxConns, tc.want)
			}
			if got := c.Masked()["ZIMPORT_DB_MAX_CONNS"]; got != strconv.Itoa(tc.want) {
				t.Errorf("Masked()[ZIMPORT_DB_MAX_CONNS] = %q, want %d", got, tc.want)
			}
		})
	}
	_, err := Load(env(map[string]string{"ZIMPORT_ENCRYPTION_KEY": key, "ZIMPORT_DB_MAX_CONNS": "-1"}))
	if err == nil || !strings.Contains(err.Error(), "ZIMPORT_DB_MAX_CONNS") {
		t.Errorf("Load with ZIMPORT_DB_MAX_CONNS=-1: err = %v, want a problem with it", err)
	}
}
