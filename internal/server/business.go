package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/client"
	"github.com/kontor-chat/kontor/client/e2e"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/identity"
	"github.com/kontor-chat/kontor/wire"
)

// bizAccounts registers business numbers as kontor accounts.
type bizAccounts struct{ ident *identity.Service }

// RegisterDirect makes the account of a new business number.
func (a bizAccounts) RegisterDirect(ctx context.Context, phone, deviceName string) (business.Device, error) {
	p, err := kontor.ParsePhone(phone)
	if err != nil {
		return business.Device{}, err
	}
	if _, err := a.ident.Account(ctx, p); err == nil {
		return business.Device{}, kontor.Errorf(kontor.Conflict, "business.Create", "%s is registered already; a business needs a number of its own", p)
	} else if kontor.KindOf(err) != kontor.NotFound {
		return business.Device{}, err
	}
	c, err := a.ident.RegisterDirect(ctx, string(p), deviceName)
	if err != nil {
		return business.Device{}, err
	}
	acct, err := a.ident.Account(ctx, p)
	if err != nil {
		return business.Device{}, err
	}
	return business.Device{Account: acct.ID, Phone: c.Phone, DeviceID: c.DeviceNum, Credential: c.Credential}, nil
}

// endpointDir is where the platform keeps a hosted endpoint's profile: its
// device credential and its Signal keys.
func (s *Server) endpointDir(number kontor.ID) string {
	return filepath.Join(s.cfg.DataDir, "endpoints", number.String())
}

// checkEndpointsDir makes the directory of hosted endpoints.
func (s *Server) checkEndpointsDir() error {
	if err := os.MkdirAll(filepath.Join(s.cfg.DataDir, "endpoints"), 0o700); err != nil {
		return fmt.Errorf("endpoints directory: %w", err)
	}
	return nil
}

// hostEndpoint keeps a new hosted business's device in the platform's data
// directory and publishes its keys, so that people can write to it at once.
func (s *Server) hostEndpoint(ctx context.Context, c business.Created) error {
	dir := s.endpointDir(c.PhoneNumberID)
	a := client.Account{Server: "http://" + s.loopbackAddr(), DeviceCredentials: wire.DeviceCredentials{Phone: c.Device.Phone, DeviceID: c.Device.DeviceID, Credential: c.Device.Credential}}
	if err := client.CreateProfile(dir, a); err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: "server.hostEndpoint", Err: err}
	}
	return s.startEndpoint(ctx, c.PhoneNumberID)
}

// loopbackAddr is how this node reaches itself.
func (s *Server) loopbackAddr() string {
	host, port, err := net.SplitHostPort(s.ln.Addr().String())
	if err != nil {
		return s.ln.Addr().String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// startEndpoint publishes a hosted endpoint's keys.
func (s *Server) startEndpoint(ctx context.Context, number kontor.ID) error {
	sealer, err := e2e.OpenProfile(s.endpointDir(number), nil, e2e.Options{Logger: s.log})
	if err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: "server.startEndpoint", Err: err}
	}
	defer sealer.Close()
	if _, err := sealer.Maintain(ctx); err != nil {
		return &kontor.Error{Kind: kontor.Internal, Op: "server.startEndpoint", Msg: "publishing the endpoint's keys failed", Err: err}
	}
	return nil
}
