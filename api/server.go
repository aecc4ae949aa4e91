// Package api is zimport's HTTP API: an Echo server with the import,
// instance and job endpoints, authentication by system token or personal
// access token, the asynqmon dashboard, and the one place that maps errors to
// ZITADEL's error body.
package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/semaphore"

	"github.com/zimport/zimport/importdata"
	"github.com/zimport/zimport/internal/batch"
	"github.com/zimport/zimport/seal"
	"github.com/zimport/zimport/source"
	"github.com/zimport/zimport/store"
)

// Config is the API's configuration. Zero values take the documented defaults.
type Config struct {
	// SystemTokens are the bearer tokens of system callers. Without any, every
	// system endpoint answers 401.
	SystemTokens []string
	// MaxInlineBytes limits the body of POST /import. Default 64 MiB.
	MaxInlineBytes int64
	// DefaultTimeout is an import's budget when the request names none. Default 30m.
	DefaultTimeout time.Duration
	// MaxTimeout is the largest timeout a request may ask for. Default 24h.
	MaxTimeout time.Duration
	// ChunkSize is the array length above which an org's array is split; the
	// request check uses it. Default 1000.
	ChunkSize int
	// RedisConnOpt is the Redis of the queue, for the asynqmon dashboard at
	// /monitoring. When nil, /monitoring is not served.
	RedisConnOpt asynq.RedisConnOpt
	// MonitoringWritable lets the dashboard change the queues (pause, delete,
	// archive, run tasks); it is read-only by default.
	MonitoringWritable bool
	// Redis is pinged by GET /readyz. Required.
	Redis Pinger
	// Sources are the rules for import files (local directory, S3 endpoints).
	Sources source.Config
	// BcryptCost is the cost of the hashes of plain passwords that
	// POST /users/human/_import makes. Default bcrypt's default (10).
	BcryptCost int
	// MaxActiveImports bounds the imports of an instance queued or running;
	// more are 429. 0: no bound.
	MaxActiveImports int
	// ReadTimeout bounds the reading of a request, body included. Default 2m.
	ReadTimeout time.Duration
	// WriteTimeout bounds the writing of an answer; an answer that streams
	// (a job's result) gets it anew with every write, and Prefer: wait adds
	// the wait. Default 2m.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle that long. Default 2m.
	IdleTimeout time.Duration
	// MaxBodyBytesInFlight bounds the bytes of large request bodies (over
	// 1 MiB) that the API holds at once; a body that does not fit within
	// 10 s is 503. Default 128 MiB, at least MaxInlineBytes.
	MaxBodyBytesInFlight int64
	// HashWorkers bounds the plain passwords hashed at once by the API, so
	// that bcrypt leaves room for other requests. Default GOMAXPROCS - 1,
	// at least 1.
	HashWorkers int
}

// Pinger is a dependency whose health GET /readyz checks, such as Redis.
type Pinger interface {
	// Ping returns an error when the dependency does not answer.
	Ping(ctx context.Context) error
}

// Enqueuer puts tasks on the queue; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Defaults of Config.
const (
	DefaultMaxInlineBytes = 64 << 20
	DefaultTimeout        = 30 * time.Minute
	DefaultMaxTimeout     = 24 * time.Hour
	DefaultChunkSize      = 1000
	// DefaultHTTPTimeout is the default read, write and idle timeout.
	DefaultHTTPTimeout          = 2 * time.Minute
	DefaultMaxBodyBytesInFlight = 128 << 20
)

// withDefaults fills in zero values.
func (c Config) withDefaults() Config {
	if c.MaxInlineBytes <= 0 {
		c.MaxInlineBytes = DefaultMaxInlineBytes
	}
	if c.DefaultTimeout <= 0 {
		c.DefaultTimeout = DefaultTimeout
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = DefaultMaxTimeout
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultHTTPTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultHTTPTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultHTTPTimeout
	}
	if c.MaxBodyBytesInFlight <= 0 {
		c.MaxBodyBytesInFlight = DefaultMaxBodyBytesInFlight
	}
	c.MaxBodyBytesInFlight = max(c.MaxBodyBytesInFlight, c.MaxInlineBytes)
	if c.BcryptCost <= 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.HashWorkers <= 0 {
		c.HashWorkers = max(runtime.GOMAXPROCS(0)-1, 1)
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Redis == nil {
		errs = append(errs, errors.New("api: Config.Redis is required"))
	}
	if c.DefaultTimeout > c.MaxTimeout {
		errs = append(errs, fmt.Errorf("api: default timeout %s is above the maximum %s", c.DefaultTimeout, c.MaxTimeout))
	}
	for i, t := range c.SystemTokens {
		if t == "" {
			errs = append(errs, fmt.Errorf("api: system token %d is empty", i))
		}
	}
	return errors.Join(errs...)
}

// Server is the HTTP API.
type Server struct {
	log     *zap.Logger
	st      *store.Store
	q       Enqueuer
	box     *seal.Box
	cfg     Config
	echo    *echo.Echo
	mon     *asynqmon.HTTPHandler
	systems [][32]byte // SHA-256 of the system tokens
	// hashSlots bounds the passwords hashed at once (Config.HashWorkers).
	hashSlots chan struct{}
	tokens    tokenCache
	// bodyBytes bounds the bytes of large bodies held at once; a body waits
	// bodyWait for room.
	bodyBytes *semaphore.Weighted
	bodyWait  time.Duration
	// userRequests, plainRequests and userTransactions bound what an
	// instance has in flight on POST /users/human/_import.
	userRequests, plainRequests tenantCounter
	userTransactions            tenantSlots
	// userBatches imports the users of concurrent requests together.
	userBatches *batch.Batcher[userBatchKey, importdata.ImportHumanUserRequest, store.HumanImported]
}

// New returns the API server. st, q and box are required; see Config for the rest.
func New(log *zap.Logger, st *store.Store, q Enqueuer, box *seal.Box, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil || st == nil || q == nil || box == nil {
		return nil, errors.New("api: logger, store, queue client and seal box are required")
	}
	s := &Server{log: log.Named("api"), st: st, q: q, box: box, cfg: cfg, hashSlots: make(chan struct{}, cfg.HashWorkers)}
	for _, t := range cfg.SystemTokens {
		s.systems = append(s.systems, tokenDigest(t))
	}
	s.bodyBytes, s.bodyWait = semaphore.NewWeighted(cfg.MaxBodyBytesInFlight), bodyWait
	s.userRequests.max, s.plainRequests.max, s.userTransactions.max = maxUserRequests, maxPlainRequests, maxUserTransactions
	s.userBatches = batch.New(s.importUserBatch, userBatchSize, userBatchesPerOrg, userBatchTimeout)
	if cfg.RedisConnOpt != nil {
		mon, err := newMonitor(cfg.RedisConnOpt, cfg.MonitoringWritable)
		if err != nil {
			return nil, err
		}
		s.mon = mon
	}
	s.echo = s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// HTTPServer returns an http.Server for the API on addr with its timeouts:
// headers within 10 s, the whole request within ReadTimeout, idle
// connections closed after IdleTimeout (write deadlines are set per answer).
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{Addr: addr, Handler: s.echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: s.cfg.ReadTimeout, IdleTimeout: s.cfg.IdleTimeout}
}

// Close releases the dashboard's Redis connections.
func (s *Server) Close() error {
	if s.mon != nil {
		return s.mon.Close()
	}
	return nil
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID(), s.writeDeadline, s.accessLog, middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: s.logPanic,
	}))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	// Middleware per route, not per group: a group would answer unknown
	// paths and methods itself (401/404 instead of 404/405).
	e.POST("/import", s.postImport, s.authenticate)
	e.POST("/admin/v1/import", s.postImport, s.authenticate)
	e.POST("/instances/_create", s.postInstance, s.authenticate)
	e.POST("/system/v1/instances/_create", s.postInstance, s.authenticate)
	e.POST("/users/human/_import", s.postHumanUser, s.authenticate)
	e.POST("/management/v1/users/human/_import", s.postHumanUser, s.authenticate)
	e.GET("/jobs", s.listJobs, s.authenticate)
	e.GET("/jobs/:id", s.getJob, s.authenticate)
	e.GET("/jobs/:id/result", s.getResult, s.authenticate)
	e.GET("/jobs/:id/errors", s.getErrors, s.authenticate)
	e.POST("/jobs/:id/cancel", s.cancelJob, s.authenticate)

	if s.mon != nil {
		h := echo.WrapHandler(s.mon)
		e.Any("/monitoring", h, s.requireSystemBasic)
		e.Any("/monitoring/*", h, s.requireSystemBasic)
	}
	return e
}

// writeDeadline gives every answer WriteTimeout to be written.
func (s *Server) writeDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.extendWrite(c, 0)
		return next(c)
	}
}

// extendWrite sets the answer's write deadline to WriteTimeout plus extra
// from now. Writers that do not support deadlines (tests' recorders) are
// left alone.
func (s *Server) extendWrite(c echo.Context, extra time.Duration) {
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout + extra))
}

// streamWriter is an answer's writer that moves the write deadline on with
// every write, so that a long answer is cut only when the client stops
// reading, not because it is long.
type streamWriter struct {
	s *Server
	c echo.Context
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.s.extendWrite(w.c, 0)
	return w.c.Response().Write(p)
}

// accessLog logs every request after the error handler has answered it.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		s.log.Debug("request",
			zap.String("request_id", requestID(c)),
			zap.String("method", c.Request().Method),
			zap.String("path", c.Request().URL.Path),
			zap.Int("status", c.Response().Status),
			zap.Duration("duration", time.Since(start)))
		return nil
	}
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.log.Error("panic in handler",
		zap.String("request_id", requestID(c)),
		zap.String("method", c.Request().Method),
		zap.String("path", c.Request().URL.Path),
		zap.Error(err),
		zap.ByteString("stack", stack))
	return loggedError{err}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when PostgreSQL and Redis answer within 2 seconds.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	var down []string
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("readiness: postgres", zap.String("request_id", requestID(c)), zap.Error(err))
		down = append(down, "postgres")
	}
	if err := s.cfg.Redis.Ping(ctx); err != nil {
		s.log.Warn("readiness: redis", zap.String("request_id", requestID(c)), zap.Error(err))
		down = append(down, "redis")
	}
	if len(down) > 0 {
		return errUnavailable("not ready: " + strings.Join(down, " and ") + " not reachable")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
