package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/kontortest"
	"github.com/kontor-chat/kontor/wire"
)

// BenchmarkSendDeliver measures the whole path over loopback WebSockets:
// send → commit → sent answer, push → msg frame → ack → receipt. 64
// devices each send b.N/64 messages to the next one, up to 32 in flight.
// Client and server share the cores.
func BenchmarkSendDeliver(b *testing.B) {
	s := kontortest.Start(b)
	const devices, window = 64, 32
	type dev struct {
		d     *kontortest.Device
		phone string
	}
	var ds []dev
	for i := range devices {
		p := fmt.Sprintf("+49151%08d", i)
		ds = append(ds, dev{kontortest.Dial(b, s.WS, s.Account(b, p).Credential), p})
	}
	per := max(1, b.N/devices)
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range ds {
		me, peer := ds[i], ds[(i+1)%devices]
		slots := make(chan struct{}, window)
		got := make(chan struct{})
		wg.Add(1)
		go func() { // reader: sent answers free slots; msgs and receipts are acked
			defer wg.Done()
			received, sent := 0, 0
			for received < per || sent < per {
				_, data, err := me.d.WS.Read(context.Background())
				if err != nil {
					b.Error(err)
					return
				}
				var f wire.Frame
				_ = json.Unmarshal(data, &f)
				switch f.Type {
				case wire.TSent:
					sent++
					<-slots
				case wire.TMsg:
					received++
					ack(me.d.WS, f.ID)
				case wire.TReceipt:
					ack(me.d.WS, f.ID)
				case wire.TError:
					b.Errorf("error frame %+v", f)
					return
				}
			}
			close(got)
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := make([]byte, 128)
			for j := range per {
				slots <- struct{}{}
				fr, _ := json.Marshal(wire.Frame{Type: wire.TSend, Ref: fmt.Sprint(j), To: kontor.Phone(peer.phone), Payloads: []wire.Payload{{DeviceID: 1, Body: body}}})
				if err := me.d.WS.Write(context.Background(), websocket.MessageText, fr); err != nil {
					b.Error(err)
					return
				}
			}
			<-got
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*devices)/b.Elapsed().Seconds(), "msgs/s")
}

func ack(ws *websocket.Conn, id kontor.ID) {
	fr, _ := json.Marshal(wire.Frame{Type: wire.TAck, IDs: []kontor.ID{id}})
	_ = ws.Write(context.Background(), websocket.MessageText, fr)
}
