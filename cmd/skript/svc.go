package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
)

// svcErr maps a service error to the command's exit code: what the
// caller asked wrongly (a bad argument, an unknown run, a conflict, a
// store that cannot answer) is a usage error, exit 2; the rest exit 1.
func svcErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return exit(130, nil)
	}
	switch service.CodeOf(err) {
	case service.Invalid, service.NotFound, service.Conflict, service.Unsupported:
		return exit(2, err)
	}
	return exit(1, err)
}

// lookupService opens the store for a command that looks up runs started
// earlier (runs, logs, history, retry). The memory store keeps runs only
// inside one process, so such a command refuses it in one line rather
// than report nothing found.
func (f *storeFlags) lookupService(ctx context.Context, command string, readOnly bool) (*service.Service, error) {
	if f.isMemory() {
		return nil, exit(2, fmt.Errorf("%s looks up runs kept in a shared store, and the memory store keeps them only inside "+
			"the process that ran them: give --store redis://... (or $SKRIPT_STORE)", command))
	}
	f.readOnly = readOnly
	st, err := f.open(ctx)
	if err != nil {
		return nil, err
	}
	svc, err := service.New(service.Config{Store: st})
	if err != nil {
		_ = st.Close()
		return nil, exit(1, err)
	}
	return svc, nil
}

// lookup is lookupService for a command's run, with a context that
// Ctrl-C or SIGTERM cancels; done closes the store and stops listening.
func (f *storeFlags) lookup(cmd *cobra.Command, command string, readOnly bool) (context.Context, *service.Service, func(), error) {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	svc, err := f.lookupService(ctx, command, readOnly)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return ctx, svc, func() {
		_ = svc.Close()
		stop()
	}, nil
}

// engineService is the service of a command that builds its own engine
// (with a logger, an observer, a registry).
func engineService(eng *runtime.Engine, deny []string) (*service.Service, error) {
	svc, err := service.New(service.Config{Engine: eng, Denied: deny})
	if err != nil {
		return nil, exit(1, err)
	}
	return svc, nil
}

// runNotFound is the one message of every command given an unknown run.
func runNotFound(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) || service.CodeOf(err) == service.NotFound {
		return exit(2, fmt.Errorf("run %s not found", id))
	}
	return svcErr(err)
}

// nodeAt names a node in a frame: "fetch", or "fetch[each[2]]" in a loop
// iteration.
func nodeAt(node, frame string) string {
	if frame == "" {
		return node
	}
	return node + "[" + frame + "]"
}
