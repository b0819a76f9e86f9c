//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("validate", js.FuncOf(validate))
	js.Global().Set("skript", api)
	// Tell a page waiting for the compiler that it is there.
	if cb := js.Global().Get("onSkriptReady"); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
	select {} // serve calls for the page's lifetime
}

// validate(src, file = "workflow.yaml", deny = []) -> JSON of a Result.
func validate(_ js.Value, args []js.Value) any {
	if len(args) < 1 || args[0].Type() != js.TypeString {
		return `{"errors":[{"line":0,"col":0,"message":"validate wants the workflow source as a string","text":"validate wants the workflow source as a string"}],"graph":null}`
	}
	file := "workflow.yaml"
	if len(args) > 1 && args[1].Type() == js.TypeString && args[1].String() != "" {
		file = args[1].String()
	}
	var deny []string
	if len(args) > 2 && args[2].Type() == js.TypeObject {
		for i := 0; i < args[2].Length(); i++ {
			deny = append(deny, args[2].Index(i).String())
		}
	}
	data, err := json.Marshal(check(file, []byte(args[0].String()), deny))
	if err != nil {
		return `{"errors":[],"graph":null}`
	}
	return string(data)
}
