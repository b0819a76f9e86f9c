package runtime

import (
	"errors"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// A workflow's finally nodes run on token store.FinallyToken, started by
// the run's Finally task once the run has come to its end (see
// store.Transition): the driver stops the rest of the run's work and keeps
// that end as the header's Finishing. The finally nodes see it as
// run.status and run.error, and their own end ends the run with finalEnd.

// finallyTask is the Finally task of a new run of bp, nil when bp has no
// finally nodes.
func finallyTask(bp *blueprint.Blueprint, hdr *store.Run) *store.Task {
	if bp.Finally <= 0 {
		return nil
	}
	return &store.Task{Run: hdr.ID, Hash: bp.Hash, Kind: store.Resume, Token: store.FinallyToken, Seq: 1, PC: bp.Finally,
		Trace: hdr.Trace}
}

// finishing reads the end the run came to before its finally nodes.
func (v *vm) finishing() (*store.RunEnd, error) {
	hdr, err := v.st.GetRun(v.ctx, v.run.id)
	if err != nil {
		return nil, &storeError{err}
	}
	if hdr.Finishing == nil {
		// A finally token of a run that is not finishing: nothing a
		// driver following store.Transition leaves behind.
		return &store.RunEnd{Status: hdr.Status, Output: hdr.Output, Error: hdr.Error}, nil
	}
	return hdr.Finishing, nil
}

// finallyRunVar is `run` in the finally nodes: the run's id and workflow,
// and the status and error of the end it came to.
func (v *vm) finallyRunVar() (map[string]any, error) {
	fin, err := v.finishing()
	if err != nil {
		return nil, err
	}
	var e any
	if fin.Error != nil {
		e = map[string]any{"type": fin.Error.Type, "message": fin.Error.Message, "node": fin.Error.Node, "data": fin.Error.Data}
	}
	return map[string]any{"id": v.run.id, "workflow": v.run.workflow, "status": string(fin.Status), "error": e}, nil
}

// finalEnd turns the end of the finally nodes into the run's: the end the
// run came to, unless that was a success and the finally nodes failed.
// Their failure never replaces an earlier failure or cancellation: it
// stays on their own records (and in the journal).
func (v *vm) finalEnd() error {
	fin, err := v.finishing()
	if err != nil {
		return err
	}
	end := v.tr.End
	if end.Status != store.Succeeded && fin.Status == store.Succeeded {
		v.tr.End = &store.RunEnd{Status: end.Status, Error: end.Error}
		return nil
	}
	cp := *fin
	v.tr.End = &cp
	return nil
}

// ended reports whether a transition of token ends its run for good, as
// opposed to starting its finally nodes.
func (info *runInfo) ended(token string) bool {
	return !info.finally || store.InFinally(token)
}

// endsRun reports whether a transition of token that has an End ends run
// for good (a run whose header this process has not read is taken to).
func (e *Engine) endsRun(run, token string) bool {
	info := e.cachedRun(run)
	return info == nil || info.ended(token)
}

// finallyNodes marks the nodes of bp's finally nodes (their code follows
// the top level's End from bp.Finally on, in every optimizer setting:
// passes keep the order of the code).
func finallyNodes(bp *blueprint.Blueprint) []bool {
	out := make([]bool, len(bp.Nodes))
	if bp.Finally <= 0 {
		return out
	}
	for pc := int(bp.Finally); pc < len(bp.Code); pc++ {
		in := &bp.Code[pc]
		if in.Node >= 0 && int(in.Node) < len(out) {
			out[in.Node] = true
		}
		for _, st := range in.Steps {
			if st.Node >= 0 && int(st.Node) < len(out) {
				out[st.Node] = true
			}
		}
	}
	return out
}

// ErrNoFinishing refuses a workflow with finally nodes on a driver that
// would end its runs without running them (store.Capabilities.Finishing).
var ErrNoFinishing = errors.New("this store cannot run a workflow's finally nodes yet (it does not finish runs); use the memory or Redis store")

// checkFinishing refuses bp on the engine's store when bp has finally
// nodes and the store does not finish runs.
func (e *Engine) checkFinishing(bp *blueprint.Blueprint) error {
	if bp.Finally > 0 && !e.store.Capabilities().Finishing {
		return ErrNoFinishing
	}
	return nil
}
