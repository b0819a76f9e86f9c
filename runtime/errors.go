package runtime

import (
	"errors"
	"slices"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// errorInfo is the stored error of node's failure err: its message, and
// the type and data that retry and catch filters read. Params errors,
// abandoned tasks and timeouts have the engine's types whatever the action
// wrapped; an action's own *action.Error gives its type; any other failure
// is action.ErrGeneric.
func errorInfo(node string, err error) *store.ErrorInfo {
	info := &store.ErrorInfo{Node: node, Message: err.Error()}
	var ae *abandonedError
	switch {
	case errors.Is(err, errParams):
		info.Type = action.ErrParams
	case errors.As(err, &ae):
		info.Type = action.ErrAbandoned
	default:
		info.Type, info.Data = action.TypeOf(err)
	}
	return info
}

// errorView is what `error` reads as in a catch block, and the `error` of
// the output on_error: continue records: node, type and message, the
// failure's data under `data`, and its well-known fields (status, body,
// exit_code, stdout, stderr) at the top as well, so that a filter reads
// `error.status` rather than `error.data.status`.
func errorView(info *store.ErrorInfo) map[string]any {
	m := map[string]any{"message": info.Message, "node": info.Node, "type": errorType(info)}
	if len(info.Data) > 0 {
		m["data"] = info.Data
		for _, k := range viewFields {
			if v, ok := info.Data[k]; ok {
				m[k] = v
			}
		}
	}
	return m
}

// viewFields are the data fields errorView lifts to the top of `error`.
var viewFields = []string{"status", "body", "exit_code", "stdout", "stderr"}

// errorType is an error's type, action.ErrGeneric for one stored without
// (by an earlier version, or a store's own failure).
func errorType(info *store.ErrorInfo) string {
	if info.Type == "" {
		return action.ErrGeneric
	}
	return info.Type
}

// retries says whether a failed attempt may run again under its step's
// retry policy. Without a filter, a params error never does (the same
// params fail the same way); the fail action's does only under the fail
// node's own retry, as the workflow's default retry never applies to it
// (the compiler sees to that). A filter's `errors` must name either. The
// filter's condition sees the failure as `error` and its attempt number as
// `attempt`; a condition that cannot be evaluated does not retry. It
// returns a *storeError when the condition's records could not be read.
func (v *vm) retries(t token, r *blueprint.Retry, info *store.ErrorInfo, attempt int) (bool, error) {
	f := r.Filter
	typ := errorType(info)
	if f == nil {
		return typ != action.ErrParams, nil
	}
	if slices.Contains(f.Except, typ) {
		return false, nil
	}
	if f.Errors != nil {
		if !slices.Contains(f.Errors, typ) {
			return false, nil
		}
	} else if typ == action.ErrParams || typ == action.ErrFail {
		return false, nil
	}
	if f.When < 0 {
		return true, nil
	}
	e := v.p.bp.Exprs[f.When]
	if e.Const {
		b, _ := e.Value.(bool)
		return b, nil
	}
	// error and attempt are the failure's, not records: read the rest.
	own := e
	own.Vars = slices.DeleteFunc(slices.Clone(e.Vars), func(x blueprint.Var) bool {
		return x.Kind == blueprint.VarError || x.Kind == blueprint.VarAttempt
	})
	env, err := v.env(t, &own)
	if err != nil {
		var se *storeError
		if errors.As(err, &se) {
			return false, se
		}
		return false, nil
	}
	for _, x := range e.Vars {
		switch x.Kind {
		case blueprint.VarError:
			env[x.Name] = errorView(info)
		case blueprint.VarAttempt:
			env[x.Name] = attempt
		}
	}
	val, err := v.p.exprs[f.When].Run(env)
	if err != nil {
		return false, nil //nolint:nilerr // a condition that cannot be evaluated does not retry: the step fails with its own error
	}
	b, _ := val.(bool)
	return b, nil
}
