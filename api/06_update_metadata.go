package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
)

// updateMetadata feeds the metadata cache (key 6), refusing a stale
// controller or broker epoch.
func (h *Handler) updateMetadata(req *kmsg.UpdateMetadataRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.UpdateMetadataResponse)
	if err := h.d.Replicas.CheckControllerRequest(req.ControllerEpoch, req.BrokerEpoch); err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	h.d.Cache.Apply(toCacheUpdate(req))
	return resp
}

var securityProtocolNames = map[int16]string{0: "PLAINTEXT", 1: "SSL", 2: "SASL_PLAINTEXT", 3: "SASL_SSL"}

func toCacheUpdate(req *kmsg.UpdateMetadataRequest) metacache.Update {
	u := metacache.Update{
		ControllerID: model.BrokerID(req.ControllerID), ControllerEpoch: req.ControllerEpoch,
		TopicIDs: map[string]model.TopicID{},
	}
	for _, b := range req.LiveBrokers {
		mb := model.Broker{ID: model.BrokerID(b.ID), Rack: b.Rack}
		for _, e := range b.Endpoints {
			mb.Endpoints = append(mb.Endpoints, model.Endpoint{Listener: e.ListenerName, Host: e.Host, Port: e.Port, SecurityProtocol: securityProtocolNames[e.SecurityProtocol]})
		}
		if len(b.Endpoints) == 0 { // v0
			mb.Endpoints = append(mb.Endpoints, model.Endpoint{Listener: "PLAINTEXT", Host: b.Host, Port: b.Port, SecurityProtocol: "PLAINTEXT"})
		}
		u.Brokers = append(u.Brokers, mb)
	}
	add := func(topic string, p kmsg.UpdateMetadataRequestTopicPartition) {
		u.Partitions = append(u.Partitions, metacache.PartitionUpdate{
			Topic: topic, Partition: p.Partition,
			PartitionInfo: metacache.PartitionInfo{
				LeaderAndISR: model.LeaderAndISR{
					Leader: model.BrokerID(p.Leader), LeaderEpoch: model.LeaderEpoch(p.LeaderEpoch), ISR: brokerIDs(p.ISR),
					ControllerEpoch: p.ControllerEpoch, PartitionEpoch: p.ZKVersion,
				},
				Replicas: brokerIDs(p.Replicas), OfflineReplicas: brokerIDs(p.OfflineReplicas),
			},
		})
	}
	for _, p := range req.PartitionStates {
		add(p.Topic, p)
	}
	for _, t := range req.TopicStates {
		u.TopicIDs[t.Topic] = model.TopicID(t.TopicID)
		for _, p := range t.PartitionStates {
			add(t.Topic, p)
		}
	}
	return u
}
