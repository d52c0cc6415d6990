package commerce

import "testing"

func TestCanMove(t *testing.T) {
	all := []string{OrderPending, OrderConfirmed, OrderPaid, OrderShipped, OrderCompleted, OrderCanceled, OrderExpired, OrderRefunded}
	allowed := map[[2]string]bool{
		{OrderPending, OrderConfirmed}: true, {OrderPending, OrderPaid}: true, {OrderPending, OrderCanceled}: true,
		{OrderConfirmed, OrderPaid}: true, {OrderConfirmed, OrderCanceled}: true,
		{OrderPaid, OrderShipped}: true, {OrderPaid, OrderCompleted}: true, {OrderPaid, OrderRefunded}: true,
		{OrderShipped, OrderCompleted}: true, {OrderShipped, OrderRefunded}: true,
		{OrderCompleted, OrderRefunded}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := CanMove(from, to); got != allowed[[2]string{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
}
