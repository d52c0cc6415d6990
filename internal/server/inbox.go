package server

import (
	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/web/console"
)

// consoleEndpoint is the endpoint the console's inbox sends through: the
// hosted endpoint of number when it runs on this node.
func (s *Server) consoleEndpoint(number kontor.ID) (console.Sender, bool) {
	e, ok := s.hosted.Endpoint(number)
	if !ok {
		return nil, false
	}
	return e, true
}
