//go:build !(js && wasm)

package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// main, outside a browser, prints the Result of each file given: the
// answers the page gets, for comparing and debugging.
func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: skript-wasm FILE... (build with GOOS=js GOARCH=wasm for the browser)")
		os.Exit(2)
	}
	code := 0
	for _, path := range os.Args[1:] {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		res := check(path, src, nil)
		if len(res.Errors) > 0 {
			code = 2
		}
		data, _ := json.Marshal(res) // plain data always encodes
		fmt.Println(string(data))
	}
	os.Exit(code)
}
