// Package compiler turns workflow YAML into a Blueprint: it parses, checks
// every rule it can before a run starts (reporting all problems at once,
// each at its YAML node), inlines function calls, lowers the structured
// nodes to the flat instructions of package blueprint, optimizes, and seals
// the result with its content hash.
//
// The stages, one file each:
//
//	dsl.Parse        YAML → syntax tree with positions
//	check.go         static rules: unique ids, actions and params,
//	                 functions and args, recursion, loop bounds, node
//	                 options, inputs
//	inline.go        the tree with every Call expanded (ids CALLID.INNERID),
//	                 the node table
//	refs.go          expressions: syntax, names in scope, and which node
//	                 records have certainly been written where they are read
//	types.go         static types of conditions, loops, waits and params
//	lower.go         the instruction arena
//	optimize.go      the optimizer passes (opt_*.go)
//	prune.go         node and expression tables trimmed to what code uses
package compiler

import (
	"fmt"
	"strings"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	skexpr "github.com/skript-dev/skript/expr"
)

// Options tune a compilation. The zero value compiles with the built-in
// actions, every optimizer pass and the parser's default size limit.
type Options struct {
	// Registry holds the actions a workflow may use; nil means
	// action.Builtins().
	Registry *action.Registry
	// MaxBytes refuses a source larger than this many bytes, so a service
	// that compiles untrusted workflows bounds its work; 0 means
	// dsl.DefaultMaxBytes.
	MaxBytes int
	// NoOpt skips every optimizer pass.
	NoOpt bool
	// Disabled switches off the optimizer passes with these names.
	Disabled map[string]bool
	// Denied names actions the host has switched off (--deny-action),
	// and which Registry therefore lacks: a workflow using one is told
	// so, rather than that the action does not exist.
	Denied []string
}

// maxNodes bounds the node table after inlining. Functions that call each
// other several times grow exponentially; a small file must not be able to
// make the compiler (or a run) build millions of nodes.
const maxNodes = 200_000

// Compile compiles a workflow. It returns the Blueprint, or every problem
// found, sorted by position; it never panics, whatever the input.
func Compile(file string, src []byte, opts Options) (bp *blueprint.Blueprint, errs dsl.ErrorList) {
	// The last line of defence: a compiler bug must become a report, not
	// take down a server that compiles its users' workflows. The fuzz test
	// fails on such reports, so they are not hidden from development.
	defer func() {
		if r := recover(); r != nil {
			bp = nil
			errs = dsl.ErrorList{{File: file, Pos: dsl.Pos{Line: 1, Col: 1},
				Msg: fmt.Sprintf("internal compiler error: %v (please report this with the file)", r)}}
		}
	}()
	reg := opts.Registry
	if reg == nil {
		reg = action.Builtins()
	}
	var popts []dsl.Option
	if opts.MaxBytes > 0 {
		popts = append(popts, dsl.WithMaxBytes(opts.MaxBytes))
	}
	wf, perrs := dsl.Parse(file, src, popts...)
	if wf == nil {
		if len(perrs) == 0 {
			perrs.Add(file, dsl.Pos{Line: 1, Col: 1}, "workflow could not be read")
		}
		return nil, perrs
	}
	return compile(file, src, wf, perrs, reg, opts)
}

// compile runs the stages after parsing. It never modifies wf, so a
// benchmark can time the compiler proper on one parsed workflow.
func compile(file string, src []byte, wf *dsl.Workflow, perrs dsl.ErrorList, reg *action.Registry, opts Options) (*blueprint.Blueprint, dsl.ErrorList) {
	errs := append(dsl.ErrorList(nil), perrs...)
	c := &compiler{
		file:   file,
		wf:     wf,
		reg:    reg,
		denied: opts.Denied,
		errs:   &errs,
		tr:     skexpr.NewTranslator(file, src),
		bp: &blueprint.Blueprint{
			Name:        wf.Name,
			Version:     wf.Version,
			Description: wf.Description,
			File:        file,
			Output:      -1,
		},
	}
	c.check()
	c.inline()
	c.refs()
	errs = dropEchoes(errs, len(perrs))
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	c.lower()
	if !opts.NoOpt {
		optimize(c.bp, opts.Disabled)
	}
	pruneNodes(c.bp)
	// The runtime trusts a Blueprint's indexes; a compiler bug must surface
	// here as an error, never as a run that misbehaves.
	if err := blueprint.Validate(c.bp); err != nil {
		errs.Add(file, dsl.Pos{}, "internal compiler error: %v", err)
		return nil, errs
	}
	if err := blueprint.Seal(c.bp); err != nil {
		errs.Add(file, dsl.Pos{}, "cannot encode the compiled workflow: %v", err)
		return nil, errs
	}
	return c.bp, nil
}

// dropEchoes removes the compiler's errors at positions the parser already
// reported: one message per YAML node. The parser checks each field's shape
// and range; where the compiler checks the same field again (so that an AST
// built by other means is still checked), the parser's message wins.
func dropEchoes(errs dsl.ErrorList, parsed int) dsl.ErrorList {
	if parsed == 0 || parsed == len(errs) {
		return errs
	}
	seen := make(map[dsl.Pos]bool, parsed)
	for _, e := range errs[:parsed] {
		seen[e.Pos] = true
	}
	out := errs[:parsed]
	for _, e := range errs[parsed:] {
		if !seen[e.Pos] {
			out = append(out, e)
		}
	}
	return out
}

// compiler holds the state shared by the stages.
type compiler struct {
	file string
	wf   *dsl.Workflow
	reg  *action.Registry
	// denied are the actions the host switched off (Options.Denied).
	denied []string
	errs   *dsl.ErrorList
	tr     *skexpr.Translator
	bp     *blueprint.Blueprint

	// Set by check.
	funcs     map[string]*dsl.Function
	recursive map[*dsl.Node]bool // Calls that close a cycle: not inlined
	inputs    map[string]bool    // declared inputs; nil when none are

	// Set by inline.
	top     []*inode            // the top-level sequence
	fin     []*inode            // the finally nodes
	byID    map[string]*inode   // full id → first node with it
	scopes  []*fscope           // every function instance, for hints
	phantom [][]*inode          // bodies of functions nobody calls, checked only
	nodes   []*inode            // non-phantom nodes by table index
	counter int32               // preorder numbering
	made    int                 // inodes built, phantom ones included
	size    map[string]int      // inlined size of each function
	sized   map[string]struct{} // functions whose size is being computed

	// look, when set, is how the next expression bound sees node records
	// (see refs.go); bind consumes it.
	look *look
}

// errorf records a problem at pos.
func (c *compiler) errorf(pos dsl.Pos, format string, args ...any) {
	c.errs.Add(c.file, pos, format, args...)
}

// firstPos returns the first valid position, so that a message can point at
// a field when it was written and at its node otherwise.
func firstPos(ps ...dsl.Pos) dsl.Pos {
	for _, p := range ps {
		if p.IsValid() {
			return p
		}
	}
	return dsl.Pos{}
}

// fieldPos returns where field key of n is written, or the node's position.
func fieldPos(n *dsl.Node, key string) dsl.Pos {
	return firstPos(n.FieldPos[key], n.Pos)
}

// quoteList formats names for a message: "a", "b" and "c".
func quoteList(names []string) string {
	s := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			s += " and "
		default:
			s += ", "
		}
		s += fmt.Sprintf("%q", n)
	}
	return s
}

// article names a value kind with its indefinite article: "an integer".
func article(k dsl.Kind) string {
	s := k.String()
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
