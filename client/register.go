package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// Registration says how to register a number, or link a device, into a new
// profile.
type Registration struct {
	Server     string // base URL of the server
	Phone      kontor.Phone
	DeviceName string
	// Code is the one-time code (Register) or link code (Link). When
	// Register gets none, it requests a code, then asks a development
	// server's /dev/otp for it, and failing that calls AskCode.
	Code string
	// AskCode asks the user for the code that was sent; nil means the code
	// must come from Code or /dev/otp.
	AskCode func(ctx context.Context) (string, error)
	// HTTPClient carries the calls; a default client when nil.
	HTTPClient *http.Client
}

// Register registers r.Phone as a new primary device and writes the
// profile in dir (created with mode 0700), which must not hold a device
// yet. Registering a number that exists moves the account to this device
// and signs out its others.
func Register(ctx context.Context, dir string, r Registration) (Account, error) {
	if err := checkProfileDir(dir); err != nil {
		return Account{}, err
	}
	a, err := r.register(ctx)
	if err != nil {
		return Account{}, err
	}
	return a, createProfile(dir, a)
}

// RegisterIn is Register with the profile in st, which must not hold a
// device yet (the web chat's IndexedDB).
func RegisterIn(ctx context.Context, st Storage, r Registration) (Account, error) {
	if err := checkStorage(st); err != nil {
		return Account{}, err
	}
	a, err := r.register(ctx)
	if err != nil {
		return Account{}, err
	}
	return a, createIn(st, a)
}

func (r *Registration) register(ctx context.Context) (Account, error) {
	const op = "client.Register"
	phone, api, err := r.prepare()
	if err != nil {
		return Account{}, err
	}
	code := strings.TrimSpace(r.Code)
	if code == "" {
		if _, err := api.RequestCode(ctx, phone); err != nil {
			return Account{}, err
		}
		code, err = devCode(ctx, api, phone)
		if err != nil {
			if r.AskCode == nil {
				return Account{}, kontor.Errorf(kontor.Invalid, op, "a code was sent to %s; pass it to finish registering", phone)
			}
			if code, err = r.AskCode(ctx); err != nil {
				return Account{}, err
			}
			code = strings.TrimSpace(code)
		}
	}
	creds, err := api.Verify(ctx, phone, code, r.DeviceName)
	if err != nil {
		return Account{}, err
	}
	return Account{Server: r.Server, DeviceCredentials: creds}, nil
}

// Link makes the profile in dir a new linked device of r.Phone with the
// link code r.Code, which the account's primary device got from
// API.LinkCode.
func Link(ctx context.Context, dir string, r Registration) (Account, error) {
	if err := checkProfileDir(dir); err != nil {
		return Account{}, err
	}
	a, err := r.link(ctx)
	if err != nil {
		return Account{}, err
	}
	return a, createProfile(dir, a)
}

// LinkIn is Link with the profile in st, which must not hold a device yet.
func LinkIn(ctx context.Context, st Storage, r Registration) (Account, error) {
	if err := checkStorage(st); err != nil {
		return Account{}, err
	}
	a, err := r.link(ctx)
	if err != nil {
		return Account{}, err
	}
	return a, createIn(st, a)
}

func (r *Registration) link(ctx context.Context) (Account, error) {
	phone, api, err := r.prepare()
	if err != nil {
		return Account{}, err
	}
	if strings.TrimSpace(r.Code) == "" {
		return Account{}, kontor.Errorf(kontor.Invalid, "client.Link", "linking needs the link code from the primary device")
	}
	creds, err := api.Link(ctx, phone, strings.TrimSpace(r.Code), r.DeviceName)
	if err != nil {
		return Account{}, err
	}
	return Account{Server: r.Server, DeviceCredentials: creds}, nil
}

func (r *Registration) prepare() (kontor.Phone, *API, error) {
	phone, err := kontor.ParsePhone(string(r.Phone))
	if err != nil {
		return "", nil, err
	}
	if _, err := webSocketURL(r.Server); err != nil {
		return "", nil, err
	}
	return phone, &API{Server: r.Server, HTTP: r.HTTPClient}, nil
}

// devCode fetches the code from a development server, trying a few times
// in case the code is still on its way.
func devCode(ctx context.Context, api *API, phone kontor.Phone) (string, error) {
	var err error
	for i := range 3 {
		var code string
		code, err = api.DevOTP(ctx, phone)
		if err == nil && code != "" {
			return code, nil
		}
		if kontor.KindOf(err) != kontor.NotFound {
			break // not a development server, or not from here
		}
		if i < 2 {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
	}
	if err == nil {
		err = errors.New("empty code")
	}
	return "", fmt.Errorf("no code from /dev/otp: %w", err)
}
