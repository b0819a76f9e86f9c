// Command asynq-bench measures hibiken/asynq on a Redis, for comparison
// with `skript bench --store redis://...` on the same Redis: it enqueues N
// no-op tasks while an asynq server processes them, and reports tasks per
// second (enqueue plus process, from the first enqueue to the last task
// done) and the Redis commands per task (from INFO commandstats, which
// counts the commands scripts run one each, as it does for Skript).
//
// It is a module of its own so that Skript's module does not depend on
// asynq. It works in a queue of its own and deletes it at the end; it
// never flushes the database. Run it against a private Redis that nothing
// else uses, or the command count includes other clients' commands.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Result is what one measurement prints with -json.
type Result struct {
	Tasks           int     `json:"tasks"`
	Concurrency     int     `json:"concurrency"`
	Enqueuers       int     `json:"enqueuers"`
	Seconds         float64 `json:"seconds"`
	TasksPerSec     float64 `json:"tasks_per_sec"`
	CommandsPerTask float64 `json:"commands_per_task"`
}

func main() {
	addr := flag.String("redis", "127.0.0.1:6380", "Redis host:port (never the one on 6379 unless you mean it)")
	db := flag.Int("db", 0, "Redis database")
	n := flag.Int("tasks", 50000, "tasks to enqueue and process")
	conc := flag.String("concurrency", "64", "asynq server concurrency; a comma-separated list measures each")
	enq := flag.String("enqueuers", "8", "goroutines enqueueing at once; a comma-separated list measures each")
	asJSON := flag.Bool("json", false, "print one JSON object per measurement")
	flag.Parse()
	if strings.HasSuffix(*addr, ":6379") {
		log.Printf("warning: %s is the default Redis port; make sure nothing else uses that server", *addr)
	}
	opt := asynq.RedisClientOpt{Addr: *addr, DB: *db}
	rc := redis.NewClient(&redis.Options{Addr: *addr, DB: *db})
	defer rc.Close()
	for _, c := range ints(*conc) {
		for _, e := range ints(*enq) {
			res, err := measure(opt, rc, *n, c, e)
			if err != nil {
				log.Fatal(err)
			}
			if *asJSON {
				_ = json.NewEncoder(os.Stdout).Encode(res)
			} else {
				fmt.Printf("asynq  tasks %d  concurrency %d  enqueuers %d  %.2fs  %.0f tasks/s  %.2f Redis commands/task\n",
					res.Tasks, res.Concurrency, res.Enqueuers, res.Seconds, res.TasksPerSec, res.CommandsPerTask)
			}
		}
	}
}

func ints(list string) []int {
	var out []int
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			log.Fatalf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out
}

// measure enqueues n tasks from enqueuers goroutines while a server with
// the given concurrency processes them, and times the whole.
func measure(opt asynq.RedisClientOpt, rc *redis.Client, n, concurrency, enqueuers int) (*Result, error) {
	ctx := context.Background()
	queue := fmt.Sprintf("skriptbench%d", time.Now().UnixNano())
	var done atomic.Int64
	finished := make(chan struct{})
	mux := asynq.NewServeMux()
	mux.HandleFunc("noop", func(context.Context, *asynq.Task) error {
		if done.Add(1) == int64(n) {
			close(finished)
		}
		return nil
	})
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: concurrency,
		Queues:      map[string]int{queue: 1},
		LogLevel:    asynq.ErrorLevel,
		// Look for new tasks often when the queue runs dry, so the
		// server's idle polling does not count against it.
		TaskCheckInterval: 10 * time.Millisecond,
	})
	if err := srv.Start(mux); err != nil {
		return nil, err
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	defer func() { _ = insp.DeleteQueue(queue, true) }()

	before, err := commands(ctx, rc)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, enqueuers)
	for range enqueuers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := client.Enqueue(asynq.NewTask("noop", nil), asynq.Queue(queue), asynq.MaxRetry(0)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	select {
	case <-finished:
	case <-time.After(5 * time.Minute):
		return nil, fmt.Errorf("only %d of %d tasks done after 5 minutes", done.Load(), n)
	}
	elapsed := time.Since(start)
	after, err := commands(ctx, rc)
	if err != nil {
		return nil, err
	}
	// The background loops of the server (heartbeats, forwarder, janitor)
	// are counted too: they are part of what asynq costs while it works.
	return &Result{Tasks: n, Concurrency: concurrency, Enqueuers: enqueuers, Seconds: elapsed.Seconds(),
		TasksPerSec:     float64(n) / elapsed.Seconds(),
		CommandsPerTask: float64(after-before-1) / float64(n)}, nil
}

// commands sums the calls of every command in INFO commandstats.
func commands(ctx context.Context, rc *redis.Client) (int64, error) {
	info, err := rc.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		_, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ",")
		if v, err := strconv.ParseInt(num, 10, 64); err == nil {
			total += v
		}
	}
	return total, nil
}
