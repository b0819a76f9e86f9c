// Package redis is Skript's Redis store driver, for workers spread over
// several processes or machines. The same code runs on a single Redis and on
// a Redis Cluster (detected when connecting).
//
// # Keys
//
// Each run belongs to one of a fixed number of partitions (FNV-1a of its id,
// modulo the count recorded in skript:meta). Every key of a partition
// carries the partition's hash tag, so all of a run's state and the queue
// its tasks go through live in one Cluster slot, and one script call can
// change all of them atomically:
//
//	skript:meta                HASH   partitions: the deployment's fixed count
//	skript:bp:HASH             STRING a Blueprint, by content hash (cached in process); expires retention+1d after its last use (bpkeep.go)
//	skript:{p7}:q              STREAM ready tasks (field t = task JSON), consumer group "skript"
//	skript:{p7}:delayed        ZSET   delayed tasks, score = due time in ms, member = task JSON
//	skript:{p7}:dead           STREAM entries that were not tasks, with the reason
//	skript:{p7}:run:ID         HASH   hdr (creation-time JSON), status, output, error, ended, lv (has live:ID),
//	                                  js/jt/jtm (the journal's last seq, truncated, last time), cr/wf/ik (for the index)
//	skript:{p7}:rec:ID         HASH   frame|key -> record JSON
//	skript:{p7}:tok:ID         HASH   token -> seq
//	skript:{p7}:live:ID        SET    frame|key of the run's running records: its end reads only those
//	skript:{p7}:grp:ID         HASH   the run's Fork and Map groups: GID|remaining, GID|next, ..., GID|slot:i -> JSON
//	skript:{p7}:ev:ID          STREAM the run's journal, entry 0-SEQ per script call (journal.go)
//	skript:{p7}:idx[:...]      ZSET   the run index: all, by status, by workflow, ended; idx:cnt HASH of counts (index.go)
//	skript:{pK}:ik:SHA256      STRING the run holding an idempotency key (idem.go)
//	skript:{p7}:ready          sharded channel, Cluster only: rung when tasks are added; carries the due time when delayed ones are
//	skript:ended               channel of ended run ids
//	skript:due                 channel, single Redis only: the earliest due time of the delayed tasks an apply call added
//
// Every script declares every key it touches in KEYS (the package's tests
// run the scripts behind a checker that fails any other key): the driver
// names each run's keys, and a run's groups share one hash so that its end
// deletes one known key.
//
// "skript" is the default prefix (WithPrefix). When a run ends its header
// and records expire after the retention time (WithRetention); its tokens
// and groups are deleted at once.
//
// # Transitions
//
// CreateRun, Cancel and every batch of completions of one partition are one
// call of scripts/apply.lua: it checks each fence (the token's seq, and
// that the run is running), writes records (keeping a stored Started),
// tokens and groups, passes arrivals to groups (building a completed
// group's list from the slots' raw JSON, and starting the next child of a
// bounded group as store.ChildTask does), enqueues tasks (XADD, or ZADD
// when delayed), ends runs, and acknowledges and deletes the completed
// tasks' stream entries. Reads are batched per hash and writes per key, so
// a batch of N completions costs a handful of commands beyond its N XADDs.
// StartStep, the running record of a blocking step that begins, is one
// call of scripts/start.lua behind the same fence; it needs no bookkeeping
// of its own, since a run's end looks at every record of the run.
//
// # Leases
//
// A lease is a pending entry of the partition stream's consumer group.
// Lease runs scripts/lease.lua, which reads with XREADGROUP partition after
// partition (from a rotating start) until it has as many tasks as asked for,
// and reclaims entries idle for longer than
// the lease (XAUTOCLAIM, every lease/4). On a single Redis one call visits
// every partition and, when nothing is ready, Lease blocks on XREAD for new
// entries; on a Cluster each partition is a call of its own (its own slot).
// The driver then reads the status of the entries' runs (one pipeline of
// HGETs), drops the tasks of runs that ended or expired, and names the
// consumer on the others (store.Task.Worker, for the journal);
// an idle Lease waits for a partition's doorbell (see bell.go), with a
// sweep every second in case a ring was lost. Due delayed tasks are moved to the
// streams by scripts/promote.lua at most every 50 ms, or when a delayed
// task this process knows of is due: the apply script announces the due
// times it adds, and an idle Lease sleeps no further than the earliest
// (see due.go), so a timer fires within a few ms of its time. Extend resets the entries' idle time
// (XCLAIM JUSTID) for those still pending under the consumer they were leased
// for (scripts/extend.lua), so it never takes back a reclaimed entry; Release re-adds the tasks and acknowledges their entries
// in one call. An entry that is not a task of this deployment is moved to
// the partition's dead stream and logged.
//
// # Delivery limit
//
// The consumer group counts the deliveries of each pending entry:
// XREADGROUP hands out a new entry (1), and each XAUTOCLAIM of an entry
// whose worker stopped heartbeating counts one more (Extend's XCLAIM JUSTID
// does not). Lease sets store.Task.Deliveries from that count, read back
// with XPENDING inside lease.lua for reclaimed entries only, and
// store.Task.MaxDeliveries from WithMaxDeliveries (default 5). The count is
// not in the task's JSON: it belongs to the entry, so a Release (a new
// entry), a retry or the token's next task starts again at 1. The runtime
// does not run the action of an Exec task delivered more than MaxDeliveries
// times; it fails the task's node instead, through the node's retry,
// on_error and catch (see docs/redis.md).
//
// # Failures
//
// While Redis is unreachable, the calls that write (PutBlueprint, CreateRun,
// Complete, Lease, Extend, Release, Cancel) return an error at once, and the reads
// (GetRun, Records, AllRecords, GetBlueprint, WaitRun) wait for Redis until
// their context ends. rueidis reconnects by itself, and a caller that
// retries recovers once Redis is back. Scripts are reloaded by EVAL when a restarted Redis has lost them.
// Ended resubscribes after a dropped connection; runs that end while it is
// down are not reported, and WaitRun falls back to reading the run header.
package redis
