package action

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// Call is what an action receives at run time.
type Call struct {
	// Params were decoded by Schema.Decode: defaults applied, Duration
	// fields hold time.Duration, Integer fields int.
	Params map[string]any
	// Logger is the run's log; the `log` action writes here.
	Logger  *slog.Logger
	RunID   string
	NodeID  string
	Attempt int // 1-based
	// Journal, when set, receives the lines the step adds to its run's
	// journal (see Journal); the runtime sets it.
	Journal Journal
}

// Journal receives the lines a step adds to its run's journal, where they
// are kept with the run whichever worker ran it (`skript logs`): the `log`
// action's lines, the tails of a `shell` command's output. The runtime's
// Journal collects them into the step's transition, so it is to be called
// on the goroutine running the action, before the action returns.
type Journal interface {
	// Line adds a log line at level ("debug", "info", "warn", "error"), or,
	// with stream set ("stdout", "stderr"), the tail of a command's output.
	Line(level, stream, message string)
}

// JournalLine adds a line to the step's journal, when it has one. Host
// actions reach it through CallFrom.
func (c *Call) JournalLine(level, stream, message string) {
	if c.Journal != nil {
		c.Journal.Line(level, stream, message)
	}
}

// logger never returns nil, so an action called outside a run (a test, a
// host program) still has somewhere to write.
func (c *Call) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Func runs an action. ctx is cancelled on node timeout or run cancellation;
// actions must honour it. Every error fails the attempt, and the runtime
// retries it if the node has retries left.
type Func func(ctx context.Context, c *Call) (any, error)

// Action is a named, typed unit of work.
type Action struct {
	Name   string
	Doc    string
	Schema Schema
	Run    Func
	// Inline marks an action that returns at once: it never waits on I/O,
	// a timer or another goroutine (noop, set, log, fail). A worker runs
	// such an action on one of its own goroutines, between other tasks,
	// rather than on a goroutine of its own with a cancellable context,
	// which makes a wide fan-out of small actions much cheaper. An Inline
	// action that blocked would hold up the tasks queued behind it, and it
	// must not keep its *Call once it returns (the worker reuses it).
	Inline bool
}

// Registry maps action names to actions. It is safe for concurrent use, so
// a host may register actions while workers already look them up.
//
// Workers look an action up for every step they run, so lookups take no
// lock: the map is never changed once published, and Add and Remove
// publish a changed copy (registries are small and rarely change).
type Registry struct {
	mu      sync.Mutex // serializes writers
	actions atomic.Pointer[map[string]*Action]
}

// load returns the current map; nil (a zero Registry) reads as empty.
func (r *Registry) load() map[string]*Action {
	if m := r.actions.Load(); m != nil {
		return *m
	}
	return nil
}

// publish replaces the map with a copy changed by edit; the caller holds mu.
func (r *Registry) publish(edit func(m map[string]*Action)) {
	old := r.load()
	m := make(map[string]*Action, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	edit(m)
	r.actions.Store(&m)
}

// NewRegistry returns an empty registry; see Builtins for one that holds
// the built-in actions.
func NewRegistry() *Registry {
	return &Registry{}
}

// Builtins returns a new registry holding every built-in action. Each call
// returns a fresh registry, so removing an action from one (as
// --deny-action does) never affects another.
func Builtins() *Registry {
	return BuiltinsWith(BuiltinOptions{})
}

// Add registers an action. It refuses an empty or duplicate name, a nil Run
// and a schema with mistakes (duplicate fields, a default of the wrong
// type), so such bugs surface when the host starts, not mid-run.
func (r *Registry) Add(a Action) error {
	if a.Name == "" {
		return errors.New("action has no name")
	}
	if strings.IndexFunc(a.Name, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0 {
		return fmt.Errorf("action name %q contains spaces", a.Name)
	}
	if a.Run == nil {
		return fmt.Errorf("action %q has no Run function", a.Name)
	}
	if err := a.Schema.validate(); err != nil {
		return fmt.Errorf("action %q: schema: %w", a.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.load()[a.Name]; dup {
		return fmt.Errorf("action %q is already registered", a.Name)
	}
	r.publish(func(m map[string]*Action) { m[a.Name] = &a })
	return nil
}

// Lookup returns the named action. The result is shared: treat it as
// read-only.
func (r *Registry) Lookup(name string) (*Action, bool) {
	a, ok := r.load()[name]
	return a, ok
}

// Names returns every registered name, sorted, for "did you mean" hints,
// docs and `skript schema`.
func (r *Registry) Names() []string {
	actions := r.load()
	out := make([]string, 0, len(actions))
	for n := range actions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Clone returns an independent registry with the same actions, so a host
// can add or remove actions for one engine without touching another's.
func (r *Registry) Clone() *Registry {
	actions := r.load()
	m := make(map[string]*Action, len(actions))
	for n, a := range actions {
		cp := *a
		m[n] = &cp
	}
	c := &Registry{}
	c.actions.Store(&m)
	return c
}

// Remove deletes the named actions; unknown names are ignored. It exists
// so an operator can forbid an action (`--deny-action shell`): a workflow
// using it then fails to compile instead of running it.
func (r *Registry) Remove(names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.publish(func(m map[string]*Action) {
		for _, n := range names {
			delete(m, n)
		}
	})
}

// callKey carries the *Call into a host action's context.
type callKey struct{}

// CallFrom returns the Call of the action running under ctx. Host actions
// registered with Register receive only their typed params; this is how
// they reach the run's logger, run id, node id and attempt number.
func CallFrom(ctx context.Context) (*Call, bool) {
	c, ok := ctx.Value(callKey{}).(*Call)
	return c, ok
}
