package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/dsl"
)

// listFlag is a repeatable, comma-separated list flag whose names are
// checked as they are given, so a typo is a usage error (exit 2) before
// anything runs rather than a setting silently without effect.
type listFlag struct {
	list  *[]string
	check func([]string) error
	split bool
}

func (f *listFlag) Set(s string) error {
	items := []string{s}
	if f.split {
		items = strings.Split(s, ",")
		for i := range items {
			items[i] = strings.TrimSpace(items[i])
		}
	}
	if err := f.check(items); err != nil {
		return err
	}
	*f.list = append(*f.list, items...)
	return nil
}

func (f *listFlag) String() string { return strings.Join(*f.list, ",") }
func (f *listFlag) Type() string   { return "strings" }

// registerDeny adds --deny-action, checked against the built-in actions.
func (f *compileFlags) registerDeny(cmd *cobra.Command, usage string) {
	check := func(names []string) error {
		return action.CheckDenied(action.Builtins(), names, dsl.Hint)
	}
	cmd.Flags().Var(&listFlag{list: &f.deny, check: check, split: true}, "deny-action", usage)
}

// registerHost adds the settings of the actions this process runs: what a
// shell command may see of the environment and where http may connect.
func (f *compileFlags) registerHost(cmd *cobra.Command) {
	cmd.Flags().Var(&listFlag{list: &f.shellEnv, check: action.CheckEnvNames}, "shell-env",
		"also pass this environment variable to shell commands, which otherwise see only PATH, HOME, USER, LOGNAME, LANG, LANGUAGE, LC_*, TZ, TMPDIR and their env (NAME, or PREFIX* for a prefix); repeatable")
	cmd.Flags().BoolVar(&f.httpDenyPrivate, "http-deny-private", false,
		"make http refuse loopback, private, link-local (cloud metadata), unspecified and multicast addresses, checked on the address dialled")
}

// builtinOptions are the host settings as the actions take them.
func (f *compileFlags) builtinOptions() action.BuiltinOptions {
	return action.BuiltinOptions{
		Shell: action.ShellOptions{PassEnv: f.shellEnv},
		HTTP:  action.HTTPOptions{DenyPrivate: f.httpDenyPrivate},
	}
}
