package runtime

import (
	"fmt"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// runInfo is what a worker caches about a run: it never changes.
type runInfo struct {
	id       string
	workflow string
	inputs   map[string]any
	runVar   map[string]any
	// retryOf is the run this one retries (see retry.go): its Tasks and
	// Waits look for reused records before they run.
	retryOf string
	// unstored: the run's first transition is being computed and the run
	// is not in the store yet, so a record this transition has not
	// written does not exist.
	unstored bool
	// finally: the run has finally nodes (see finally.go).
	finally bool
	tel     runTel
}

func newRunInfo(r *store.Run) *runInfo {
	inputs := r.Inputs
	if inputs == nil {
		inputs = map[string]any{}
	}
	return &runInfo{id: r.ID, workflow: r.Workflow, inputs: inputs, retryOf: r.RetryOf,
		runVar: map[string]any{"id": r.ID, "workflow": r.Workflow}, finally: r.Finally != nil, tel: newRunTel(r)}
}

// eval evaluates expression i for token t. Only the records the expression
// names are read, so the cost does not grow with the run.
func (v *vm) eval(t token, i int32) (any, error) {
	return v.evalAs(t, i, false)
}

// evalRaw evaluates expression i without normalizing its value (see
// expr.Program.RunRaw).
func (v *vm) evalRaw(t token, i int32) (any, error) {
	return v.evalAs(t, i, true)
}

func (v *vm) evalAs(t token, i int32, raw bool) (any, error) {
	e := &v.p.bp.Exprs[i]
	if e.Const {
		return e.Value, nil
	}
	env, err := v.env(t, e)
	if err != nil {
		return nil, err
	}
	// The program's errors already say "expression at LINE:COL".
	if raw {
		return v.p.exprs[i].RunRaw(env)
	}
	return v.p.exprs[i].Run(env)
}

func (v *vm) env(t token, e *blueprint.Expr) (map[string]any, error) {
	env := make(map[string]any, 2+len(e.Vars))
	// Gather every record to read in one batch.
	var keys []store.RecordKey
	// A look back from the first iteration has no record to read: its
	// key stays empty, and reads as no record.
	var none []bool
	for i, r := range e.Refs {
		k, ok := v.refKey(t.frame, r)
		if !ok {
			none = markNone(none, i, len(e.Refs)+len(e.Vars))
		}
		keys = append(keys, k)
	}
	for _, vr := range e.Vars {
		switch vr.Kind {
		case blueprint.VarPrevious:
			k, ok := v.previousKey(t.frame, vr.Node)
			if !ok {
				none = markNone(none, len(keys), len(e.Refs)+len(e.Vars))
			}
			keys = append(keys, k)
		case blueprint.VarItem:
			keys = append(keys, store.RecordKey{Frame: framePrefix(t.frame, v.p.depth[vr.Node]+1), Key: v.p.itemKey[vr.Node]})
		case blueprint.VarParams:
			keys = append(keys, store.RecordKey{Frame: framePrefix(t.frame, v.p.depth[vr.Node]), Key: v.p.paramsKey[vr.Node]})
		case blueprint.VarError:
			keys = append(keys, v.nodeKey(t.frame, vr.Node))
		}
	}
	var recs []*store.Record
	if len(keys) > 0 {
		var err error
		recs, err = v.readKeys(keys, none)
		if err != nil {
			return nil, err
		}
	}
	if len(e.Refs) > 0 {
		nm := make(map[string]any, len(e.Refs))
		for i, r := range e.Refs {
			nm[r.Name] = nodeView(recs[i])
		}
		env["nodes"] = nm
		recs = recs[len(e.Refs):]
	}
	for _, vr := range e.Vars {
		switch vr.Kind {
		case blueprint.VarInput:
			env[vr.Name] = v.run.inputs
		case blueprint.VarRun:
			env[vr.Name] = v.run.runVar
			if store.InFinally(t.id) {
				m, err := v.finallyRunVar()
				if err != nil {
					return nil, err
				}
				env[vr.Name] = m
			}
		case blueprint.VarItem, blueprint.VarParams, blueprint.VarPrevious:
			var val any
			if recs[0] != nil {
				val = recs[0].Output
			}
			env[vr.Name] = val
			recs = recs[1:]
		case blueprint.VarError:
			var val any
			if r := recs[0]; r != nil && r.Error != nil {
				m := errorView(r.Error)
				// A fail_fast: false node's catch sees every failure.
				if out, ok := r.Output.(map[string]any); ok && out["failures"] != nil {
					m["failures"] = out["failures"]
				}
				val = m
			}
			env[vr.Name] = val
			recs = recs[1:]
		case blueprint.VarIndex, blueprint.VarIteration:
			i := segmentIndex(t.frame, v.p.depth[vr.Node]+1)
			if vr.Prev {
				i--
			}
			env[vr.Name] = i
		default:
			return nil, fmt.Errorf("variable %q of unknown kind %d", vr.Name, vr.Kind)
		}
	}
	return env, nil
}

// nodeView is what `nodes.X` reads as.
func nodeView(r *store.Record) any {
	if r == nil {
		return nil
	}
	m := map[string]any{"output": r.Output, "status": string(r.Status)}
	if r.Error != nil {
		m["error"] = errorView(r.Error)
	}
	return m
}

// markNone marks key i of n as one with no record to read.
func markNone(none []bool, i, n int) []bool {
	if none == nil {
		none = make([]bool, n)
	}
	none[i] = true
	return none
}

// readKeys reads records, leaving nil those none marks.
func (v *vm) readKeys(keys []store.RecordKey, none []bool) ([]*store.Record, error) {
	if none == nil {
		return v.readRecords(keys)
	}
	var some []store.RecordKey
	for i, k := range keys {
		if !none[i] {
			some = append(some, k)
		}
	}
	got, err := v.readRecords(some)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Record, len(keys))
	j := 0
	for i := range keys {
		if !none[i] {
			out[i] = got[j]
			j++
		}
	}
	return out, nil
}
