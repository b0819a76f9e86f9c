package store

import "context"

// QueueStats counts a driver's queues on every metrics scrape
// (skript_queue_depth, skript_queue_delayed_tasks), part of every Queue.
// It must be cheap: a count per partition (a stream length, a sorted
// set's cardinality), not a scan.
type QueueStats interface {
	// QueueStats counts the tasks of each partition: ready to lease, and
	// delayed (retries, Waits) until their time comes.
	QueueStats(ctx context.Context) ([]PartitionStats, error)
}

// PartitionStats counts one partition's queued tasks.
type PartitionStats struct {
	Partition int
	Ready     int64
	Delayed   int64
}
