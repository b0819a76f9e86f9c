// Package service is Skript's one service layer: everything a client can
// ask of Skript (submit, look up, list, cancel and retry runs; read their
// events and logs; validate and compile workflows; the language's schema
// and the actions) as methods over a store, a compiler and a runtime
// engine. The CLI's commands are thin over it, and so is the HTTP API.
//
// Errors are *Error values with a Code (Invalid, NotFound, Conflict,
// Unsupported, Internal) that a caller maps to an exit code or an HTTP
// status; their messages hold no secret.
package service

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// Config is what a Service works with.
type Config struct {
	// Store holds the runs. It may be nil for a Service that only
	// compiles (Validate, Compile, Schema, Actions); the other methods
	// then fail with Unsupported.
	Store store.Store
	// Engine starts, reads and cancels runs; nil builds one over Store
	// and Registry. Given, its store must be Store and its registry is
	// the Service's.
	Engine *runtime.Engine
	// Registry holds the actions workflows may use (nil: the built-ins).
	Registry *action.Registry
	// Denied are built-in actions made unavailable: workflows using them
	// do not compile, with a message saying so. With an Engine, they are
	// denied to the workflows this Service compiles only; the Engine's
	// workers run what its registry has.
	Denied []string
}

// Service answers clients' requests. It is safe for concurrent use.
type Service struct {
	st     store.Store
	rt     *runtime.Engine
	reg    *action.Registry
	denied []string
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	reg := cfg.Registry
	if cfg.Engine != nil {
		if cfg.Store != nil && cfg.Engine.Store() != cfg.Store {
			return nil, errors.New("service: Config.Engine works on another store than Config.Store")
		}
		cfg.Store = cfg.Engine.Store()
		reg = cfg.Engine.Registry()
	}
	if reg == nil {
		reg = action.Builtins()
	}
	if len(cfg.Denied) > 0 {
		// Given an Engine, its registry stays whole for the runs it
		// works on (a server's workers run what the CLI submitted), and
		// only what this Service compiles is denied the actions.
		reg = reg.Clone()
		reg.Remove(cfg.Denied...)
	}
	s := &Service{st: cfg.Store, rt: cfg.Engine, reg: reg, denied: cfg.Denied}
	if s.rt == nil && s.st != nil {
		s.rt = runtime.New(runtime.WithStore(s.st), runtime.WithRegistry(reg), runtime.WithDeniedActions(cfg.Denied...))
	}
	return s, nil
}

// Store returns the Service's store (nil for one that only compiles).
func (s *Service) Store() store.Store { return s.st }

// Engine returns the runtime engine the Service starts runs with, for a
// host that also runs workers (nil without a store).
func (s *Service) Engine() *runtime.Engine { return s.rt }

// needStore refuses methods about runs on a Service that only compiles.
func (s *Service) needStore() error {
	if s.st == nil {
		return errorf(Unsupported, nil, "no store: this service only compiles workflows")
	}
	return nil
}

// CompileOptions tune one compilation; the actions and the denied ones
// are the Service's.
type CompileOptions struct {
	// NoOpt switches every optimizer pass off.
	NoOpt bool
	// Disabled switches the named passes off (see compiler.Passes).
	Disabled map[string]bool
	// MaxBytes refuses larger sources (0: the compiler's 10 MiB).
	MaxBytes int
}

// Compile compiles a workflow. A workflow that does not compile gives an
// Invalid *Error whose Err is the dsl.ErrorList of every problem, each
// positioned as FILE:LINE:COL.
func (s *Service) Compile(file string, src []byte, o CompileOptions) (*blueprint.Blueprint, error) {
	for name := range o.Disabled {
		if !slices.ContainsFunc(compiler.Passes, func(p compiler.Pass) bool { return p.Name == name }) {
			return nil, errorf(Invalid, nil, "unknown optimizer pass %q%s", name, dsl.Hint(name, passNames()))
		}
	}
	bp, errs := compiler.Compile(file, src, compiler.Options{Registry: s.reg, Denied: s.denied, NoOpt: o.NoOpt,
		Disabled: o.Disabled, MaxBytes: o.MaxBytes})
	if len(errs) > 0 {
		return nil, &Error{Code: Invalid, Message: errs.Error(), Err: errs}
	}
	return bp, nil
}

// Validate compiles a workflow and returns every problem found (nil for
// a valid workflow).
func (s *Service) Validate(file string, src []byte, o CompileOptions) dsl.ErrorList {
	_, err := s.Compile(file, src, o)
	if err == nil {
		return nil
	}
	var errs dsl.ErrorList
	if errors.As(err, &errs) {
		return errs
	}
	var list dsl.ErrorList
	list.Add(file, dsl.Pos{}, "%s", err.Error())
	return list
}

func passNames() []string {
	out := make([]string, len(compiler.Passes))
	for i, p := range compiler.Passes {
		out[i] = p.Name
	}
	return out
}

// Schema returns the JSON Schema of the workflow language.
func (s *Service) Schema() []byte { return dsl.Schema() }

// Actions returns the named actions, or every action when names is
// empty, in the order asked (sorted by name for all). An unknown name is
// Invalid, with the closest one suggested.
func (s *Service) Actions(names ...string) ([]*action.Action, error) {
	all := s.reg.Names()
	if len(names) == 0 {
		names = all
	}
	out := make([]*action.Action, 0, len(names))
	for _, name := range names {
		a, ok := s.reg.Lookup(name)
		if !ok {
			return nil, errorf(Invalid, nil, "unknown action %q%s; the actions are %s", name, dsl.Hint(name, all), strings.Join(all, ", "))
		}
		out = append(out, a)
	}
	return out, nil
}

// journal returns the store's journal.
func (s *Service) journal() (store.Journal, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	return s.st, nil
}

// index returns the store's run index.
func (s *Service) index() (store.RunIndex, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	return s.st, nil
}

// Close closes the store. The Service of a skript.Engine is closed by
// the Engine's Close instead.
func (s *Service) Close() error {
	if s.st == nil {
		return nil
	}
	if err := s.st.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}
