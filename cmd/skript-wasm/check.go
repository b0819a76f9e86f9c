// Command skript-wasm is Skript's compiler for the browser: built with
// GOOS=js GOARCH=wasm, it gives JavaScript the very checks of `skript
// validate` (every positioned error) and the workflow's graph, so the web
// editor marks mistakes as its user types without asking a server.
//
// It sets globalThis.skript = {validate(src, file?, deny?) -> string}, where
// the string is the JSON of a Result.
package main

import (
	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/dsl"
)

// Result is what validate answers.
type Result struct {
	// Errors are those `skript validate` prints, in its order.
	Errors []Problem `json:"errors"`
	// Graph is the workflow's graph, drawn even when it does not compile
	// (nil only when nothing could be read).
	Graph *compiler.Graph `json:"graph"`
	// Inputs are the declared inputs, for a form that starts a run.
	Inputs []Input `json:"inputs"`
}

// Input is one declared input of the workflow.
type Input struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Default     any    `json:"default,omitempty"`
	Description string `json:"description,omitempty"`
}

// Problem is one positioned error; Text is its `FILE:LINE:COL: message`
// line as the CLI prints it.
type Problem struct {
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
	Text    string `json:"text"`
}

// check validates src as `skript validate` does with the built-in actions,
// less the denied ones (a server's --deny-action).
func check(file string, src []byte, deny []string) *Result {
	reg := action.Builtins()
	reg.Remove(deny...)
	// The call service.Validate makes, without the service: its runtime
	// and stores would only weigh on the download.
	_, errs := compiler.Compile(file, src, compiler.Options{Registry: reg, Denied: deny})
	res := &Result{Errors: problems(errs)}
	res.Inputs = []Input{}
	if wf, _ := dsl.Parse(file, src); wf != nil {
		res.Graph = compiler.GraphOf(wf)
		for _, in := range wf.Inputs {
			if in == nil {
				continue
			}
			res.Inputs = append(res.Inputs, Input{Name: in.Name, Type: in.Type, Required: in.Required,
				Default: in.Default.Go(), Description: in.Description})
		}
	}
	return res
}

func problems(errs dsl.ErrorList) []Problem {
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		out = append(out, Problem{Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg, Text: e.Error()})
	}
	return out
}
