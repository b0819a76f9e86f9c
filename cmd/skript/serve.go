package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/schedule"
	"github.com/skript-dev/skript/server"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/web"
)

// httpDeniedByDefault are the actions workflows sent over HTTP may not
// use unless the operator allows them: a shell command is code the
// client runs on the server's machines.
var httpDeniedByDefault = []string{"shell"}

// serveFlags are the settings of skript serve.
type serveFlags struct {
	addr        string
	workers     int
	grace       time.Duration
	tokenFile   string
	allow       []string
	maxBody     int64
	maxWorkflow int
	startRate   float64
	startBurst  int
	tf          telemetryFlags
}

func newServeCmd() *cobra.Command {
	var (
		sf storeFlags
		cf compileFlags
		f  serveFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API (and run workers) on a store",
		Long: `Serve Skript's HTTP API, described by the OpenAPI document at
/api/openapi.json (docs/serve.md), and, unless --workers 0, run workers in
this process.

Requests need "Authorization: Bearer TOKEN", with the tokens read from
--token-file (one a line) or $SKRIPT_TOKEN; without a token the server
listens on a loopback address only. Workflows sent over HTTP may not use
shell unless --allow-action shell.

The default store is memory: runs live in this process and end with it.
Give --store redis://... to keep them and to share them with workers and
other servers; schedules then fire once per tick whatever the number of
servers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd, &sf, &cf, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address (host:port)")
	fl.IntVar(&f.workers, "workers", 64, "tasks run at once by this process's workers (0: no workers; runs wait for skript worker processes)")
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGTERM, how long running tasks and requests may finish")
	fl.StringVar(&f.tokenFile, "token-file", "", "file of bearer tokens, one a line (default $SKRIPT_TOKEN)")
	fl.Var(&listFlag{list: &f.allow, split: true, check: checkAllow}, "allow-action",
		"let workflows sent over HTTP use this action, denied to them by default (shell); repeatable")
	fl.Int64Var(&f.maxBody, "max-body", server.DefaultMaxBodyBytes, "largest request body, in bytes")
	f.tf.register(cmd)
	fl.IntVar(&f.maxWorkflow, "max-workflow", server.DefaultMaxWorkflowBytes, "largest workflow source sent over HTTP, in bytes")
	fl.Float64Var(&f.startRate, "start-rate", server.DefaultStartRate, "run starts per second per token (or per client address without tokens); negative: no limit")
	fl.IntVar(&f.startBurst, "start-burst", server.DefaultStartBurst, "run starts one token may make at once above --start-rate")
	sf.register(cmd, false)
	cf.registerDeny(cmd, "make these actions unavailable everywhere (workers included); repeatable")
	cf.registerHost(cmd)
	return cmd
}

func checkAllow(names []string) error {
	for _, n := range names {
		if !slices.Contains(httpDeniedByDefault, n) {
			return fmt.Errorf("--allow-action %q: only %s are denied to workflows sent over HTTP%s", n,
				strings.Join(httpDeniedByDefault, ", "), dsl.Hint(n, httpDeniedByDefault))
		}
	}
	return nil
}

// readTokens returns the bearer tokens of --token-file or $SKRIPT_TOKEN.
func readTokens(file string) ([]string, error) {
	text := os.Getenv("SKRIPT_TOKEN")
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, exit(2, fmt.Errorf("--token-file: %w", err))
		}
		text = string(data)
	}
	var tokens []string
	for line := range strings.SplitSeq(text, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			tokens = append(tokens, t)
		}
	}
	if file != "" && len(tokens) == 0 {
		return nil, exit(2, fmt.Errorf("--token-file %s holds no token", file))
	}
	return tokens, nil
}

// isLoopback reports whether addr listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func serve(cmd *cobra.Command, sf *storeFlags, cf *compileFlags, f *serveFlags) error {
	tokens, err := readTokens(f.tokenFile)
	if err != nil {
		return err
	}
	if len(tokens) == 0 && !isLoopback(f.addr) {
		return exit(2, fmt.Errorf("--addr %s is reachable from other machines: give --token-file or $SKRIPT_TOKEN, or listen on 127.0.0.1", f.addr))
	}
	if f.workers < 0 {
		return exit(2, fmt.Errorf("--workers %d: want 0 or more", f.workers))
	}
	if f.workers == 0 && sf.isMemory() {
		return exit(2, errors.New("--workers 0 leaves runs to skript worker processes, which the memory store cannot reach: give --store redis://HOST:PORT"))
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger, err := f.tf.logger(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	tel, stopTel, err := f.tf.start(ctx, logger)
	if err != nil {
		return err
	}
	defer stopTel()
	sf.logger = logger
	st, err := sf.openRetrying(ctx, logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer func() { _ = st.Close() }()
	reg := action.BuiltinsWith(cf.builtinOptions())
	reg.Remove(cf.deny...)
	eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg), runtime.WithLogger(logger), runtime.WithDeniedActions(cf.deny...),
		runtime.WithTelemetry(tel))
	denied := slices.Clone(cf.deny)
	for _, n := range httpDeniedByDefault {
		if !slices.Contains(f.allow, n) {
			denied = append(denied, n)
		}
	}
	svc, err := service.New(service.Config{Engine: eng, Denied: denied})
	if err != nil {
		return exit(1, err)
	}
	sched, err := schedule.New(svc, schedule.Options{Logger: logger})
	if err != nil {
		logger.Warn("no schedules: " + err.Error())
	}
	srv := server.New(server.Config{Service: svc, Tokens: tokens, MaxBodyBytes: f.maxBody, MaxWorkflowBytes: f.maxWorkflow,
		StartRate: f.startRate, StartBurst: f.startBurst, Logger: logger, Schedules: sched,
		UI: web.Handler()})
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", f.addr)
	if err != nil {
		return exit(2, fmt.Errorf("--addr: %w", err))
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}

	// Event streams last as long as their runs: a shutdown ends them
	// rather than wait for them.
	hs.RegisterOnShutdown(srv.CloseStreams)
	var wg sync.WaitGroup
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	if f.workers > 0 {
		wg.Go(func() {
			if err := eng.Work(workCtx, runtime.WorkerOptions{Concurrency: f.workers, Heartbeat: sf.lease / 3, Grace: f.grace}); err != nil {
				logger.Error("workers stopped", "err", err)
			}
		})
	}
	if sched != nil {
		wg.Go(func() { sched.Run(workCtx, schedule.DefaultPoll) })
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	storeName := "memory"
	if !sf.isMemory() {
		storeName = redis.RedactURL(sf.url)
	}
	logger.Info("serving", "addr", "http://"+ln.Addr().String(), "store", storeName, "workers", f.workers, "auth", len(tokens) > 0)
	if sf.isMemory() {
		logger.Warn("the memory store keeps runs in this process only: they end with it (give --store redis://... to keep them)")
	}
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), f.grace)
	defer cancel()
	_ = hs.Shutdown(sctx)
	// Workers stop after the API, so a run started by a last request is
	// leased by someone: this process while it lives, another later.
	stopWork()
	wg.Wait()
	logger.Info("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return exit(1, err)
	}
	return nil
}
