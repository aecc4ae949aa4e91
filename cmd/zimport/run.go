package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"

	"github.com/zimport/zimport/api"
	"github.com/zimport/zimport/config"
	"github.com/zimport/zimport/instance"
	"github.com/zimport/zimport/seal"
	"github.com/zimport/zimport/store"
	"github.com/zimport/zimport/tasks"
	"github.com/zimport/zimport/worker"
)

const usage = "usage: zimport api | worker | all | migrate | demo | gen [flags] | load users [flags]"

// run is the whole program: it wires the parts a mode needs and runs them
// until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "gen" {
		return runGen(args[1:], os.Stdout)
	}
	if len(args) > 0 && args[0] == "load" {
		return runLoad(ctx, args[1:], getenv, os.Stdout)
	}
	if len(args) != 1 {
		return errors.New(usage)
	}
	mode := args[0]
	if mode == "demo" {
		return runDemo(ctx, getenv)
	}
	switch mode {
	case "api", "worker", "all", "migrate":
	default:
		return fmt.Errorf("unknown mode %q; %s", mode, usage)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	log.Info("starting", zap.String("mode", mode), zap.Any("config", cfg.Masked()))

	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithMaxConns(cfg.DBMaxConns))
	if err != nil {
		return err
	}
	defer st.Close()
	if mode == "migrate" || mode == "all" {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		log.Info("migrations applied")
		if mode == "migrate" {
			return nil
		}
	}
	if ascii, err := st.FoldsASCIIOnly(ctx); err == nil && ascii {
		log.Warn("the database's LC_CTYPE is C: lower() folds ASCII letters only, so user names and domains that differ " +
			"in the case of other letters (Ä, ä) count as different; create the database with a UTF-8 LC_CTYPE (e.g. C.UTF-8)")
	}
	box, err := seal.NewBox(cfg.EncryptionKey)
	if err != nil {
		return err
	}
	redisOpt := asynq.RedisClientOpt{Addr: cfg.RedisAddr, Password: cfg.RedisPassword, DB: cfg.RedisDB}
	client := asynq.NewClient(redisOpt)
	defer client.Close()

	g, ctx := errgroup.WithContext(ctx)
	if mode == "api" || mode == "all" {
		rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, Password: cfg.RedisPassword, DB: cfg.RedisDB})
		defer rdb.Close()
		srv, err := api.New(log, st, client, box, api.Config{
			SystemTokens:         cfg.SystemTokens,
			MaxInlineBytes:       cfg.MaxInlineBytes,
			DefaultTimeout:       cfg.DefaultTimeout,
			MaxTimeout:           cfg.MaxTimeout,
			ChunkSize:            cfg.ChunkSize,
			RedisConnOpt:         redisOpt,
			MonitoringWritable:   !cfg.MonitoringReadOnly,
			Redis:                redisPinger{rdb},
			Sources:              cfg.Sources,
			BcryptCost:           cfg.BcryptCost,
			HashWorkers:          cfg.HashWorkers,
			ReadTimeout:          cfg.HTTPReadTimeout,
			WriteTimeout:         cfg.HTTPWriteTimeout,
			IdleTimeout:          cfg.HTTPIdleTimeout,
			MaxBodyBytesInFlight: cfg.MaxBodyBytesInFlight,
			MaxActiveImports:     cfg.MaxActiveImports,
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		g.Go(func() error { return serveHTTP(ctx, log, srv.HTTPServer(cfg.HTTPAddr)) })
	}
	if mode == "worker" || mode == "all" {
		g.Go(func() error { return runWorker(ctx, log, cfg, st, client, box, redisOpt) })
	}
	return g.Wait()
}

func newLogger(cfg config.Config) (*zap.Logger, error) {
	var zc zap.Config
	if cfg.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
	} else {
		zc = zap.NewProductionConfig()
	}
	level, err := zapcore.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	return zc.Build()
}

// serveHTTP serves the API until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, log *zap.Logger, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("api listening", zap.String("addr", srv.Addr))
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	<-errc
	return nil
}

// runWorker processes tasks until ctx ends; in-flight units finish or are
// retried elsewhere.
// housekeepingInterval is how often a worker analyses tables and deletes
// the scratch copies of ended dry runs.
const housekeepingInterval = 2 * time.Second

func runWorker(ctx context.Context, log *zap.Logger, cfg config.Config, st *store.Store, client *asynq.Client, box *seal.Box, redisOpt asynq.RedisClientOpt) error {
	wlog := log.Named("asynq")
	srv := asynq.NewServer(redisOpt, asynq.Config{
		Concurrency: cfg.WorkerConcurrency,
		// Instance creation and deadlines never wait behind imports.
		Queues:         map[string]int{tasks.SystemQueue: 2, tasks.Queue: 1},
		StrictPriority: true,
		RetryDelayFunc: worker.RetryDelay,
		IsFailure:      worker.IsFailure,
		// A waiting unit that nothing wakes is retried after 30 s (worker.RetryDelay).
		DelayedTaskCheckInterval: 500 * time.Millisecond,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			if !worker.IsFailure(err) {
				return
			}
			id, _ := asynq.GetTaskID(ctx)
			retried, _ := asynq.GetRetryCount(ctx)
			wlog.Warn("task failed", zap.String("task_type", t.Type()), zap.String("task_id", id), zap.Int("attempt", retried+1), zap.Error(err))
		}),
		// Idle workers look for new tasks this often (asynq's default is 1s, which
		// would add up to a second to every stage barrier, and to every step of
		// a chain of orgs that wait for each other).
		TaskCheckInterval: 25 * time.Millisecond,
		Logger:            wlog.Sugar(),
		LogLevel:          asynq.WarnLevel,
		ShutdownTimeout:   30 * time.Second,
	})
	mux := asynq.NewServeMux()
	inspector := asynq.NewInspector(redisOpt)
	defer inspector.Close()
	w := worker.New(log, st, client, worker.Config{ChunkSize: cfg.ChunkSize, BcryptCost: cfg.BcryptCost, Seal: box,
		Retention: cfg.ResultRetention, Sources: cfg.Sources, Tasks: inspector, Window: cfg.InstanceWindow,
		MaxRunningJobs: cfg.MaxRunningImports, MaxOrgs: cfg.MaxImportOrgs, MaxEntities: cfg.MaxImportEntities})
	w.Register(mux)
	mux.HandleFunc(tasks.TypeInstanceCreate, worker.CreateInstanceHandler(st, box,
		instance.BuildConfig{ExternalDomain: cfg.ExternalDomain, BcryptCost: cfg.BcryptCost}, log))
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker started", zap.Int("concurrency", cfg.WorkerConcurrency))
	housekept := make(chan struct{})
	go func() {
		defer close(housekept)
		w.Housekeep(ctx, housekeepingInterval)
	}()
	w.Reconcile(ctx, cfg.ReconcileInterval)
	<-housekept // both return when ctx ends
	srv.Shutdown()
	return nil
}

// redisPinger adapts go-redis to the API's readiness check.
type redisPinger struct{ c *redis.Client }

func (p redisPinger) Ping(ctx context.Context) error { return p.c.Ping(ctx).Err() }
