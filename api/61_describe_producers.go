package api

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/admin"
	"github.com/kbroker/kbroker/model"
)

// describeProducers serves DescribeProducers (key 61, KIP-664): per
// partition, the producers in the local replica's state. As in Kafka's
// KafkaApis.handleDescribeProducersRequest, a topic with an illegal name
// answers INVALID_TOPIC_EXCEPTION and one the metadata cache does not know
// UNKNOWN_TOPIC_OR_PARTITION for all its partitions (with the error's
// default message); otherwise each partition is answered by the replica
// manager (NOT_LEADER_OR_FOLLOWER when not hosted here). Followers answer
// too: the admin client chooses the broker.
func (h *Handler) describeProducers(req *kmsg.DescribeProducersRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewDescribeProducersResponseTopic()
		t.Topic = rt.Topic
		var topicErr *kerr.Error
		switch {
		case !admin.IsValidTopicName(rt.Topic):
			topicErr = kerr.InvalidTopicException
		case h.d.Cache.NumPartitions(rt.Topic) == 0:
			topicErr = kerr.UnknownTopicOrPartition
		}
		for _, idx := range rt.Partitions {
			p := kmsg.NewDescribeProducersResponseTopicPartition()
			p.Partition = idx
			if topicErr != nil {
				p.ErrorCode = topicErr.Code
				msg := topicErr.Description
				p.ErrorMessage = &msg
				t.Partitions = append(t.Partitions, p)
				continue
			}
			tp := model.TopicPartition{Topic: rt.Topic, Partition: idx}
			producers, err := h.d.Replicas.ActiveProducers(tp, h.knownPartition)
			if err != nil {
				p.ErrorCode = errorCode(err)
				t.Partitions = append(t.Partitions, p)
				continue
			}
			p.ActiveProducers = make([]kmsg.DescribeProducersResponseTopicPartitionActiveProducer, 0, len(producers))
			for _, ap := range producers {
				a := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
				a.ProducerID, a.ProducerEpoch = ap.ProducerID, int32(ap.ProducerEpoch)
				a.LastSequence, a.LastTimestamp = ap.LastSequence, ap.LastTimestamp
				a.CoordinatorEpoch, a.CurrentTxnStartOffset = ap.CoordinatorEpoch, ap.CurrentTxnStartOffset
				p.ActiveProducers = append(p.ActiveProducers, a)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
