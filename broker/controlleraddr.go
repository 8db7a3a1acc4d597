package broker

import (
	"net"
	"strconv"

	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
)

// controllerAddr is the active controller (as the last UpdateMetadata
// named it) and its address on the inter-broker listener.
func (b *Broker) controllerAddr() (model.BrokerID, string, bool) {
	id := b.cache.ControllerID()
	if id < 0 {
		return id, "", false
	}
	addr, ok := brokerAddr(b.cache, id, b.cfg.InterBrokerListenerName)
	return id, addr, ok
}

// brokerAddr is a broker's "host:port" on listener, as the metadata cache
// knows it.
func brokerAddr(cache *metacache.Cache, id model.BrokerID, listener string) (string, bool) {
	br, ok := cache.Broker(id)
	if !ok {
		return "", false
	}
	e, ok := br.Endpoint(listener)
	if !ok {
		return "", false
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))), true
}
