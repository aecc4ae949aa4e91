// Package config loads zimport's configuration from ZIMPORT_* environment
// variables. Load is a pure function of its getenv argument.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zimport/zimport/source"
)

// Config is the whole configuration of a zimport process.
type Config struct {
	// HTTPAddr is the API's listen address. Default ":8080".
	HTTPAddr string
	// DatabaseURL is the PostgreSQL connection string.
	// Default "postgres://zimport:zimport@localhost:5432/zimport?sslmode=disable".
	DatabaseURL string
	// RedisAddr is the host:port of Redis. Default "localhost:6379".
	RedisAddr string
	// RedisPassword is Redis' password. Default empty.
	RedisPassword string
	// RedisDB is the Redis database index. Default 0.
	RedisDB int
	// SystemTokens are the static bearer tokens of system callers. No default:
	// without any, system endpoints refuse every call.
	SystemTokens []string
	// EncryptionKey is the 32-byte AES-256-GCM key (base64 in
	// ZIMPORT_ENCRYPTION_KEY) that seals secrets at rest. Required.
	EncryptionKey []byte
	// MaxInlineBytes limits the body of POST /import. Default 64 MiB.
	MaxInlineBytes int64
	// DefaultTimeout is a job's budget when the request names none. Default 30m.
	DefaultTimeout time.Duration
	// MaxTimeout is the largest timeout a request may ask for. Default 24h.
	MaxTimeout time.Duration
	// WorkerConcurrency is how many tasks a worker runs at once. Default 2×CPUs.
	WorkerConcurrency int
	// DBMaxConns is the size of the PostgreSQL connection pool of a
	// process. Default 0, which means WorkerConcurrency + 4: a connection
	// for each task and a few for the API, the reconciler and readiness
	// checks. pgxpool's own default, the greater of 4 and the number of
	// CPUs, is below the default concurrency.
	DBMaxConns int
	// ChunkSize is the number of array elements above which an org's array is
	// split into units of this many elements. Default 1000.
	ChunkSize int
	// ReconcileInterval is how often a worker re-enqueues the work of
	// unfinished jobs whose tasks may have been lost. Default 1m.
	ReconcileInterval time.Duration
	// ExternalDomain is the parent domain of generated instance domains.
	// Default "zimport.localhost".
	ExternalDomain string
	// BcryptCost is the cost of bcrypt hashes of plain passwords. Default 10.
	BcryptCost int
	// InstanceWindow is the most units of an instance's imports in the queue
	// at once. Default 8.
	InstanceWindow int
	// MaxRunningImports is the most imports of an instance that run at
	// once; the others wait queued, in order. Default 1, 0 for no bound.
	MaxRunningImports int
	// MaxActiveImports is the most imports of an instance queued or running;
	// more are 429. Default 100, 0 for no bound.
	MaxActiveImports int
	// MaxImportOrgs and MaxImportEntities bound an import's size; a larger
	// one fails. Defaults 1,000,000 and 100,000,000, 0 for no bound.
	MaxImportOrgs, MaxImportEntities int
	// MaxBodyBytesInFlight bounds the bytes of large request bodies the API
	// holds at once. Default 128 MiB.
	MaxBodyBytesInFlight int64
	// HTTPReadTimeout, HTTPWriteTimeout and HTTPIdleTimeout are the API's
	// timeouts (see api.Config). Default 2m each.
	HTTPReadTimeout, HTTPWriteTimeout, HTTPIdleTimeout time.Duration
	// MonitoringReadOnly keeps the dashboard at /monitoring from changing
	// the queues. Default true.
	MonitoringReadOnly bool
	// HashWorkers bounds the plain passwords that the API hashes at once
	// (POST /users/human/_import). Default one less than the CPUs, at
	// least 1: a core stays free for the other requests.
	HashWorkers int
	// ResultRetention is how long jobs and results are kept. Default 720h.
	ResultRetention time.Duration
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string
	// LogFormat is json or console. Default json.
	LogFormat string
	// Sources are the rules for import files: ZIMPORT_LOCAL_IMPORT_DIR
	// (none: local files refused), ZIMPORT_S3_ALLOWED_ENDPOINTS (none: only
	// AWS), ZIMPORT_S3_REGION (us-east-1), ZIMPORT_S3_ALLOW_IMDS (false).
	Sources source.Config
}

// Load reads the configuration through getenv and reports every problem at once.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		HTTPAddr:             p.str("ZIMPORT_HTTP_ADDR", ":8080"),
		DatabaseURL:          p.str("ZIMPORT_DATABASE_URL", "postgres://zimport:zimport@localhost:5432/zimport?sslmode=disable"),
		RedisAddr:            p.str("ZIMPORT_REDIS_ADDR", "localhost:6379"),
		RedisPassword:        p.str("ZIMPORT_REDIS_PASSWORD", ""),
		RedisDB:              p.int("ZIMPORT_REDIS_DB", 0, 0, 1<<20),
		SystemTokens:         p.list("ZIMPORT_SYSTEM_TOKENS"),
		MaxInlineBytes:       int64(p.int("ZIMPORT_MAX_INLINE_BYTES", 64<<20, 1024, 1<<40)),
		MaxBodyBytesInFlight: int64(p.int("ZIMPORT_MAX_BODY_BYTES_IN_FLIGHT", 128<<20, 1<<20, 1<<40)),
		HTTPReadTimeout:      p.duration("ZIMPORT_HTTP_READ_TIMEOUT", 2*time.Minute),
		HTTPWriteTimeout:     p.duration("ZIMPORT_HTTP_WRITE_TIMEOUT", 2*time.Minute),
		HTTPIdleTimeout:      p.duration("ZIMPORT_HTTP_IDLE_TIMEOUT", 2*time.Minute),
		DefaultTimeout:       p.duration("ZIMPORT_DEFAULT_TIMEOUT", 30*time.Minute),
		MaxTimeout:           p.duration("ZIMPORT_MAX_TIMEOUT", 24*time.Hour),
		WorkerConcurrency:    p.int("ZIMPORT_WORKER_CONCURRENCY", 2*runtime.NumCPU(), 1, 1024),
		InstanceWindow:       p.int("ZIMPORT_INSTANCE_WINDOW", 8, 1, 100_000),
		MaxRunningImports:    p.int("ZIMPORT_MAX_RUNNING_IMPORTS", 1, 0, 100_000),
		MaxActiveImports:     p.int("ZIMPORT_MAX_ACTIVE_IMPORTS", 100, 0, 1_000_000),
		MaxImportOrgs:        p.int("ZIMPORT_MAX_IMPORT_ORGS", 1_000_000, 0, 1<<31-1),
		MaxImportEntities:    p.int("ZIMPORT_MAX_IMPORT_ENTITIES", 100_000_000, 0, 1<<62),
		DBMaxConns:           p.int("ZIMPORT_DB_MAX_CONNS", 0, 0, 10_000),
		ChunkSize:            p.int("ZIMPORT_CHUNK_SIZE", 1000, 1, 1_000_000),
		ReconcileInterval:    p.duration("ZIMPORT_RECONCILE_INTERVAL", time.Minute),
		ExternalDomain:       p.str("ZIMPORT_EXTERNAL_DOMAIN", "zimport.localhost"),
		BcryptCost:           p.int("ZIMPORT_BCRYPT_COST", 10, 4, 31),
		HashWorkers:          p.int("ZIMPORT_API_HASH_WORKERS", max(runtime.NumCPU()-1, 1), 1, 1024),
		ResultRetention:      p.duration("ZIMPORT_RESULT_RETENTION", 30*24*time.Hour),
		MonitoringReadOnly:   p.boolDefault("ZIMPORT_MONITORING_READONLY", true),
		LogLevel:             p.str("ZIMPORT_LOG_LEVEL", "info"),
		LogFormat:            p.str("ZIMPORT_LOG_FORMAT", "json"),
	}
	c.EncryptionKey = p.key("ZIMPORT_ENCRYPTION_KEY")
	c.Sources = source.Config{
		LocalDir:    p.str("ZIMPORT_LOCAL_IMPORT_DIR", ""),
		S3Region:    p.str("ZIMPORT_S3_REGION", "us-east-1"),
		S3AllowIMDS: p.bool("ZIMPORT_S3_ALLOW_IMDS"),
		LocalShared: p.bool("ZIMPORT_LOCAL_IMPORT_SHARED"),
	}
	endpoints, err := source.ParseAllowList(p.getenv("ZIMPORT_S3_ALLOWED_ENDPOINTS"))
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("ZIMPORT_S3_ALLOWED_ENDPOINTS: %w", err))
	}
	c.Sources.S3Endpoints = endpoints
	if c.DBMaxConns == 0 {
		c.DBMaxConns = c.WorkerConcurrency + 4
	}
	if c.DefaultTimeout > c.MaxTimeout {
		p.errs = append(p.errs, fmt.Errorf("ZIMPORT_DEFAULT_TIMEOUT %s is above ZIMPORT_MAX_TIMEOUT %s", c.DefaultTimeout, c.MaxTimeout))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.errs = append(p.errs, fmt.Errorf("ZIMPORT_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	switch c.LogFormat {
	case "json", "console":
	default:
		p.errs = append(p.errs, fmt.Errorf("ZIMPORT_LOG_FORMAT: %q is not one of json, console", c.LogFormat))
	}
	return c, errors.Join(p.errs...)
}

// Masked returns the configuration as loggable key/value pairs with every
// secret replaced by a marker.
func (c Config) Masked() map[string]string {
	mask := func(set bool) string {
		if set {
			return "***"
		}
		return ""
	}
	return map[string]string{
		"ZIMPORT_HTTP_ADDR":                c.HTTPAddr,
		"ZIMPORT_DATABASE_URL":             maskURL(c.DatabaseURL),
		"ZIMPORT_REDIS_ADDR":               c.RedisAddr,
		"ZIMPORT_REDIS_PASSWORD":           mask(c.RedisPassword != ""),
		"ZIMPORT_REDIS_DB":                 strconv.Itoa(c.RedisDB),
		"ZIMPORT_SYSTEM_TOKENS":            fmt.Sprintf("%d token(s)", len(c.SystemTokens)),
		"ZIMPORT_ENCRYPTION_KEY":           mask(len(c.EncryptionKey) > 0),
		"ZIMPORT_MAX_INLINE_BYTES":         strconv.FormatInt(c.MaxInlineBytes, 10),
		"ZIMPORT_DEFAULT_TIMEOUT":          c.DefaultTimeout.String(),
		"ZIMPORT_MAX_TIMEOUT":              c.MaxTimeout.String(),
		"ZIMPORT_WORKER_CONCURRENCY":       strconv.Itoa(c.WorkerConcurrency),
		"ZIMPORT_DB_MAX_CONNS":             strconv.Itoa(c.DBMaxConns),
		"ZIMPORT_CHUNK_SIZE":               strconv.Itoa(c.ChunkSize),
		"ZIMPORT_RECONCILE_INTERVAL":       c.ReconcileInterval.String(),
		"ZIMPORT_EXTERNAL_DOMAIN":          c.ExternalDomain,
		"ZIMPORT_BCRYPT_COST":              strconv.Itoa(c.BcryptCost),
		"ZIMPORT_API_HASH_WORKERS":         strconv.Itoa(c.HashWorkers),
		"ZIMPORT_MONITORING_READONLY":      strconv.FormatBool(c.MonitoringReadOnly),
		"ZIMPORT_INSTANCE_WINDOW":          strconv.Itoa(c.InstanceWindow),
		"ZIMPORT_MAX_RUNNING_IMPORTS":      strconv.Itoa(c.MaxRunningImports),
		"ZIMPORT_MAX_ACTIVE_IMPORTS":       strconv.Itoa(c.MaxActiveImports),
		"ZIMPORT_MAX_IMPORT_ORGS":          strconv.Itoa(c.MaxImportOrgs),
		"ZIMPORT_MAX_IMPORT_ENTITIES":      strconv.Itoa(c.MaxImportEntities),
		"ZIMPORT_MAX_BODY_BYTES_IN_FLIGHT": strconv.FormatInt(c.MaxBodyBytesInFlight, 10),
		"ZIMPORT_HTTP_READ_TIMEOUT":        c.HTTPReadTimeout.String(),
		"ZIMPORT_HTTP_WRITE_TIMEOUT":       c.HTTPWriteTimeout.String(),
		"ZIMPORT_HTTP_IDLE_TIMEOUT":        c.HTTPIdleTimeout.String(),
		"ZIMPORT_RESULT_RETENTION":         c.ResultRetention.String(),
		"ZIMPORT_LOG_LEVEL":                c.LogLevel,
		"ZIMPORT_LOG_FORMAT":               c.LogFormat,
		"ZIMPORT_LOCAL_IMPORT_DIR":         c.Sources.LocalDir,
		"ZIMPORT_S3_ALLOWED_ENDPOINTS":     c.Sources.S3Endpoints.String(),
		"ZIMPORT_S3_REGION":                c.Sources.S3Region,
		"ZIMPORT_LOCAL_IMPORT_SHARED":      strconv.FormatBool(c.Sources.LocalShared),
		"ZIMPORT_S3_ALLOW_IMDS":            strconv.FormatBool(c.Sources.S3AllowIMDS),
	}
}

// maskURL hides the password of a connection URL.
func maskURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if i := strings.Index(creds, ":"); i >= 0 {
		return u[:scheme+3] + creds[:i] + ":***" + u[at:]
	}
	return u
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) int(name string, def, min, max int) int {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not an integer between %d and %d", name, v, min, max))
		return def
	}
	return n
}

func (p *parser) bool(name string) bool { return p.boolDefault(name, false) }

// boolDefault reads a boolean, def when unset.
func (p *parser) boolDefault(name string, def bool) bool {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not true or false", name, v))
	}
	return b
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not a positive Go duration such as 30m", name, v))
		return def
	}
	return d
}

func (p *parser) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) key(name string) []byte {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		p.errs = append(p.errs, fmt.Errorf("%s is required: 32 random bytes in base64 (make run generates a development key)", name))
		return nil
	}
	k, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(k) != 32 {
		p.errs = append(p.errs, fmt.Errorf("%s must be 32 bytes in standard base64", name))
		return nil
	}
	return k
}
