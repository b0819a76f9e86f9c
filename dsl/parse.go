package dsl

import "fmt"

// The default limits bound the work one file can cause, so that a service
// that compiles its users' workflows cannot be stalled by one of them.
const (
	// DefaultMaxBytes is the longest source Parse reads: 10 MiB, some
	// hundred times the largest hand-written workflow.
	DefaultMaxBytes = 10 << 20
	// DefaultMaxNodes is how many YAML values a document may expand to,
	// aliases included: about a 10 MiB file's worth.
	DefaultMaxNodes = 1_000_000
)

// Option adjusts a Parse.
type Option func(*config)

type config struct {
	maxBytes int
	maxNodes int
}

// WithMaxBytes refuses sources longer than n bytes (DefaultMaxBytes unless
// set). The check comes before any parsing, so an oversized upload costs
// nothing.
func WithMaxBytes(n int) Option { return func(c *config) { c.maxBytes = n } }

// WithMaxNodes refuses documents that expand to more than n YAML values
// (DefaultMaxNodes unless set). Aliases count by what they expand to, which
// is what stops a "billion laughs" document early.
func WithMaxNodes(n int) Option { return func(c *config) { c.maxNodes = n } }

// Parse reads a workflow file. file names the source in error messages.
//
// It reports every problem it finds, not just the first, each at the YAML
// node that caused it, sorted by position. The Workflow is returned even
// when there are errors, as far as it could be read, so that the compiler
// can add its own findings to the same report; it is nil only when the
// source is not readable YAML at all. Parse never panics.
func Parse(file string, src []byte, opts ...Option) (w *Workflow, errs ErrorList) {
	defer guard(file, &errs, func() { w = nil })
	root := readValue(file, src, opts, &errs)
	if root != nil {
		d := &decoder{file: file, errs: &errs}
		w = d.workflow(root)
	}
	errs.Sort()
	return w, errs
}

// ParseValue reads a YAML or JSON document into a Value tree with
// positions, under the same limits as Parse, without reading it as a
// workflow: for other files a tool checks, such as run inputs.
func ParseValue(file string, src []byte, opts ...Option) (v *Value, errs ErrorList) {
	defer guard(file, &errs, func() { v = nil })
	v = readValue(file, src, opts, &errs)
	errs.Sort()
	return v, errs
}

// guard is the last line of defence: a bug in this package must become a
// report, not take down a server that compiles its users' workflows.
func guard(file string, errs *ErrorList, drop func()) {
	if r := recover(); r != nil {
		drop()
		errs.Add(file, Pos{1, 1}, "internal error: %v (please report this with the file)", r)
	}
}

func readValue(file string, src []byte, opts []Option, errs *ErrorList) *Value {
	cfg := config{maxBytes: DefaultMaxBytes, maxNodes: DefaultMaxNodes}
	for _, o := range opts {
		o(&cfg)
	}
	if len(src) > cfg.maxBytes {
		errs.Add(file, Pos{1, 1}, "file is %d bytes, over the %s limit", len(src), formatSize(cfg.maxBytes))
		return nil
	}
	return parseYAML(file, src, cfg.maxNodes, errs)
}

// formatSize writes a byte count the way a user set it: 10 MiB, 64 KiB or
// 1000 bytes.
func formatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}
