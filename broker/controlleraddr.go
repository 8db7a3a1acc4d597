package broker

import (
	"net"
	"strconv"

	"github.com/kbroker/kbroker/model"
)

// controllerAddr is the active controller (as the last UpdateMetadata
// named it) and its address on the inter-broker listener.
func (b *Broker) controllerAddr() (model.BrokerID, string, bool) {
	id := b.cache.ControllerID()
	if id < 0 {
		return id, "", false
	}
	br, ok := b.cache.Broker(id)
	if !ok {
		return id, "", false
	}
	e, ok := br.Endpoint(b.cfg.InterBrokerListenerName)
	if !ok {
		return id, "", false
	}
	return id, net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))), true
}
