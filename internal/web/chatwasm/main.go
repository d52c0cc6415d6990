//go:build js && wasm

package main

import (
	"syscall/js"
)

func main() {
	a := newApp(js.Global().Get("location").Get("origin").String())
	js.Global().Set("kontor", a.api())
	if ready := js.Global().Get("kontorReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // the page's calls and the client's goroutines do the work
}
