package runtime

import (
	"fmt"

	"github.com/skript-dev/skript/store"
)

// abandonedError is the failure of a step whose task the store delivered
// more often than its limit: each worker that leased it stopped before
// finishing it, so the action is taken to be what stops them (a poison
// task) and is not run again. It goes through the node's retry, on_error
// and catch like any action error.
type abandonedError struct {
	deliveries int32 // how many deliveries ran and did not finish
}

func (e *abandonedError) Error() string {
	return fmt.Sprintf("task abandoned after %d deliveries: the workers running it stopped before finishing (crash, kill or lost lease)", e.deliveries)
}

// redelivery says how much of an Exec task a worker runs.
type redelivery uint8

const (
	// runAll: the task is within its delivery limit (or the store does not
	// count deliveries).
	runAll redelivery = iota
	// runFirst: the task has just gone over its limit and has several
	// steps (node fusion) left. Any of them may be what stops the workers,
	// so the first runs alone and the rest go on as a new task; the step
	// to blame is then the one that goes over the limit on its own.
	runFirst
	// abandon: the first step left is not run; it fails with an
	// abandonedError.
	abandon
)

// redeliveryOf decides how much of an Exec task of steps steps to run.
// Resume and Timer tasks are always run: they run no action, only the
// VM's own control flow, whose work is bounded (expressions by expr's
// memory budget, control steps by maxInline) and whose panics fail the run
// rather than the worker; nor would failing them leave a node whose retry,
// on_error or catch could handle it.
func redeliveryOf(t *store.Task, steps int) redelivery {
	if t.Kind != store.Exec || t.MaxDeliveries <= 0 || t.Deliveries <= t.MaxDeliveries {
		return runAll
	}
	if steps-int(t.Step) > 1 && t.Deliveries == t.MaxDeliveries+1 {
		return runFirst
	}
	return abandon
}
