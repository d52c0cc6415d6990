package e2e

import "go.mau.fi/libsignal/logger"

// quiet is libsignal's logger here: it drops everything. The library's own
// default prints to standard output, and its debug lines format session
// records and message keys. libsignal builds each line before it calls the
// logger, so the formatting cost stays (a reason to keep the library's
// logging calls off hot paths in a later fork).
type quiet struct{}

func (quiet) Debug(string, string)   {}
func (quiet) Info(string, string)    {}
func (quiet) Warning(string, string) {}
func (quiet) Error(string, string)   {}
func (quiet) Configure(string)       {}

// init replaces libsignal's logger, a package variable of the library, once
// and before any goroutine can use the library (libsignal sets its default
// lazily, racily). Nothing else in kontor may set it.
func init() {
	var l logger.Loggable = quiet{}
	logger.Setup(&l)
}
