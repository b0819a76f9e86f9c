// Package redistest gives tests a Redis of their own: a private
// redis-server process on a free port (or a Redis Cluster of several), or the
// server named by SKRIPT_TEST_REDIS_URL, where each test works under a key
// prefix of its own and deletes only its keys.
//
// Tests are skipped when redis-server is not installed, unless
// SKRIPT_REQUIRE_REDIS=1 (as in CI), where that is a failure. The Redis on
// the default port 6379 is never used: it may hold somebody's data.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// Environment variables the package reads.
const (
	EnvRequire = "SKRIPT_REQUIRE_REDIS"  // "1": a missing redis-server fails the test
	EnvURL     = "SKRIPT_TEST_REDIS_URL" // use this server instead of a private one
)

// defaultPort is the port this package never touches.
const defaultPort = 6379

// Binary returns the path of a Redis program (redis-server, redis-cli), or
// skips the test (fails it under SKRIPT_REQUIRE_REDIS=1) when it is missing.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s is required (%s=1) but not found: %v", name, EnvRequire, err)
	}
	t.Skipf("%s not installed; skipping (install redis-server, or set %s to use a running server)", name, EnvURL)
	return ""
}

// FreePort returns a TCP port nobody listens on now (never 6379).
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != defaultPort {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// Server is a redis-server process owned by a test.
type Server struct {
	// Port the server listens on, at 127.0.0.1.
	Port int
	// Dir is the server's working directory (its log, and its data files
	// when persistence is on); it is removed when the test ends.
	Dir  string
	args []string
	cmd  *exec.Cmd
	exit chan error
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the server's redis:// URL (database 0).
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Start starts a private redis-server with no persistence (extra arguments
// are added to, and can override, the defaults) and stops it when the test
// ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Binary(t, "redis-server")
	s := &Server{Port: FreePort(t), Dir: t.TempDir()}
	s.args = append([]string{bin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.Dir, "--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log")}, extra...)
	t.Cleanup(s.Stop)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *Server) start() error {
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	s.cmd.Dir = s.Dir
	setDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.exit = make(chan error, 1)
	go func(cmd *exec.Cmd, exit chan error) { exit <- cmd.Wait() }(s.cmd, s.exit)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.Addr()) == nil {
			return nil
		}
		select {
		case err := <-s.exit:
			s.cmd = nil
			return fmt.Errorf("redis-server exited at start: %w\n%s", err, s.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server on port %d did not answer PING\n%s", s.Port, s.log())
}

// Stop shuts the server down gracefully (SIGTERM: with appendonly yes it
// writes its log before exiting) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port and
// directory, so it reloads whatever it persisted. Unlike the rest of the
// package it reports failure as an error, so it may run in a goroutine of
// its own (say, to bring Redis back while the test retries).
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// ping sends one PING on a fresh connection.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}

// Target is a Redis for a group of tests: a private server, a private
// cluster, or the external server of SKRIPT_TEST_REDIS_URL.
type Target struct {
	// URL to open; for a cluster, one of its nodes.
	URL string
	// Addrs are all nodes of a cluster (nil otherwise).
	Addrs []string
	// External is true for the server of SKRIPT_TEST_REDIS_URL, where
	// only keys under the test's prefixes may be touched.
	External bool
	// Server is the private single server (nil otherwise).
	Server *Server
	// Nodes are a private cluster's servers (nil otherwise), for tests
	// that stop one.
	Nodes []*Server
}

// New returns the server of SKRIPT_TEST_REDIS_URL when set (one that is not
// on port 6379), or a private server.
func New(t testing.TB) *Target {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatalf("%s: %v", EnvURL, err)
		}
		port := pu.Port()
		if port == "" || port == strconv.Itoa(defaultPort) {
			t.Logf("%s points at the default port %d, which tests never touch; starting a private server instead", EnvURL, defaultPort)
		} else {
			return &Target{URL: u, External: true}
		}
	}
	s := Start(t)
	return &Target{URL: s.URL(), Server: s}
}

var prefixSeq atomic.Int64

// Prefix returns a key prefix unique to this test process and test, and on
// an external server deletes the keys under it when the test ends.
func (tg *Target) Prefix(t testing.TB) string {
	p := fmt.Sprintf("skt%d-%d", os.Getpid(), prefixSeq.Add(1))
	if tg.External {
		t.Cleanup(func() { tg.deletePrefix(t, p) })
	}
	return p
}

// Client returns a rueidis client for the target, closed when the test ends.
func (tg *Target) Client(t testing.TB) rueidis.Client {
	t.Helper()
	opt, err := rueidis.ParseURL(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	opt.InitAddress = append(opt.InitAddress, tg.Addrs...)
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("connect %s: %v", tg.URL, err)
	}
	t.Cleanup(c.Close)
	return c
}

func (tg *Target) deletePrefix(t testing.TB, prefix string) {
	c := tg.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range c.Nodes() {
		cursor := uint64(0)
		for {
			e, err := n.Do(ctx, n.B().Scan().Cursor(cursor).Match(prefix+":*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				t.Logf("clean up %s: %v", prefix, err)
				break
			}
			for _, k := range e.Elements {
				_ = c.Do(ctx, c.B().Del().Key(k).Build()).Error()
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
}

// CommandCalls returns how many commands the target's servers have run
// (INFO commandstats, which also counts commands run by scripts).
func (tg *Target) CommandCalls(t testing.TB, c rueidis.Client) int64 {
	t.Helper()
	var total int64
	for _, n := range c.Nodes() {
		info, err := n.Do(context.Background(), n.B().Info().Section("commandstats").Build()).ToString()
		if err != nil {
			t.Fatalf("INFO commandstats: %v", err)
		}
		for line := range strings.SplitSeq(info, "\n") {
			_, rest, ok := strings.Cut(line, ":calls=")
			if !ok {
				continue
			}
			num, _, _ := strings.Cut(rest, ",")
			v, err := strconv.ParseInt(num, 10, 64)
			if err == nil {
				total += v
			}
		}
	}
	return total
}
