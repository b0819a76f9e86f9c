package action

import (
	"fmt"
	"strings"
)

// BuiltinOptions configure the built-in actions of BuiltinsWith: the
// operator's settings of a worker (what commands may see, where requests
// may go).
type BuiltinOptions struct {
	// Shell configures the shell action.
	Shell ShellOptions
	// HTTP configures the http and http_post actions.
	HTTP HTTPOptions
}

// BuiltinsWith returns a new registry holding every built-in action,
// configured by opts.
func BuiltinsWith(opts BuiltinOptions) *Registry {
	r := NewRegistry()
	for _, a := range []Action{
		Noop(), Log(), Set(), Sleep(), Fail(),
		HTTP(opts.HTTP), HTTPPost(opts.HTTP),
		Shell(opts.Shell),
	} {
		if err := r.Add(a); err != nil {
			panic("action: built-in " + a.Name + ": " + err.Error())
		}
	}
	return r
}

// CheckDenied refuses names that are not actions of r, so a typo in
// --deny-action (`shel`, `Shell`) is an error instead of leaving the
// action it meant allowed. hint turns a wrong name and the known ones into
// a suggestion (dsl.Hint).
func CheckDenied(r *Registry, names []string, hint func(string, []string) string) error {
	for _, n := range names {
		if _, ok := r.Lookup(n); !ok {
			known := r.Names()
			if h := hint(n, known); h != "" {
				return fmt.Errorf("cannot deny unknown action %q%s", n, h)
			}
			return fmt.Errorf("cannot deny unknown action %q; the actions are %s", n, strings.Join(known, ", "))
		}
	}
	return nil
}
