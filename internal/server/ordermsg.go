package server

import (
	"context"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// orderMessages lets a hosted endpoint of business change the orders its
// payment requests and order news name (endpoint.Orders).
type orderMessages struct {
	s        *Server
	shop     *commerce.Service
	business kontor.ID
}

func (s *Server) orderMessages(business kontor.ID) orderMessages {
	return orderMessages{s: s, shop: commerce.New(s.db, s.db, s.ids, nil), business: business}
}

func (m orderMessages) RequestPayment(ctx context.Context, id kontor.ID, customer kontor.Phone, r commerce.PaymentRequest) error {
	_, err := m.shop.RequestPayment(ctx, m.s.db, m.business, id, customer, r)
	return err
}

func (m orderMessages) UpdateOrder(ctx context.Context, id kontor.ID, customer kontor.Phone, status string) error {
	_, err := m.shop.ApplyOrderStatus(ctx, m.s.db, m.business, id, customer, status)
	return err
}
