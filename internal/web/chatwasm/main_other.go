//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "chatwasm runs in a browser: build it with GOOS=js GOARCH=wasm (go generate ./internal/web does)")
	os.Exit(2)
}
