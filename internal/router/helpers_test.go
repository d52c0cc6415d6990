package router_test

import (
	"errors"

	"github.com/kontor-chat/kontor/internal/router"
)

func asMismatch(err error, mm **router.MismatchError) bool { return errors.As(err, mm) }
