package server

import (
	"context"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/web/console"
)

// consoleEndpoint is the endpoint the console's inbox sends through: the
// hosted endpoint of number, on this node or (in a cluster) on the node
// that runs it.
func (s *Server) consoleEndpoint(ctx context.Context, number kontor.ID) (console.Sender, bool) {
	e, ok := s.hosted.Find(ctx, number)
	if !ok {
		return nil, false
	}
	return e, true
}
