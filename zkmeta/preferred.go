package zkmeta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kbroker/kbroker/model"
)

// PreferredReplicaElectionPath is the legacy request for a preferred leader
// election (kafka-zk-spec.md §1.3.7). External tools (the old
// kafka-preferred-replica-election.sh --zookeeper, ZooKeeper browsers)
// create it; the controller elects the listed partitions' preferred
// replicas and deletes it.
const PreferredReplicaElectionPath = "/admin/preferred_replica_election"

// MarshalPreferredReplicaElection renders the request:
// {"version":1,"partitions":[{"topic":"t","partition":0},...]} in the
// given order.
func MarshalPreferredReplicaElection(tps []model.TopicPartition) []byte {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = append(b, '1')
	b = appendKey(b, "partitions")
	b = append(b, '[')
	for i, tp := range tps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendKey(b, "topic")
		b = appendString(b, tp.Topic)
		b = appendKey(b, "partition")
		b = appendInt(b, int64(tp.Partition))
		b = append(b, '}')
	}
	b = append(b, ']')
	return append(b, '}')
}

// ParsePreferredReplicaElection reads the request the way Kafka's
// controller does. Data that is not JSON at all (or empty) asks for
// nothing. A JSON document without a "partitions" array, or an entry
// without a string "topic" and a 32-bit integer "partition", is an error
// (Kafka's controller fails the event and leaves the znode in place).
// Duplicates are dropped (Kafka reads a set); the first occurrences keep
// their order.
func ParsePreferredReplicaElection(data []byte) ([]model.TopicPartition, error) {
	if len(bytes.TrimSpace(data)) == 0 || !json.Valid(data) {
		return nil, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || doc == nil {
		return nil, fmt.Errorf("zkmeta: %s: not a JSON object: %s", PreferredReplicaElectionPath, data)
	}
	var entries []map[string]json.RawMessage
	raw, ok := doc["partitions"]
	if !ok || json.Unmarshal(raw, &entries) != nil || entries == nil {
		return nil, fmt.Errorf("zkmeta: %s: no \"partitions\" array: %s", PreferredReplicaElectionPath, data)
	}
	var out []model.TopicPartition
	seen := map[model.TopicPartition]bool{}
	for i, e := range entries {
		topic, okT := jsonText(e["topic"])
		p, okP := jsonInt32(e["partition"])
		if !okT || !okP {
			return nil, fmt.Errorf("zkmeta: %s: entry %d needs a string \"topic\" and an int \"partition\"", PreferredReplicaElectionPath, i)
		}
		tp := model.TopicPartition{Topic: topic, Partition: p}
		if !seen[tp] {
			seen[tp] = true
			out = append(out, tp)
		}
	}
	return out, nil
}

// jsonText is a JSON string value (not null, not a number).
func jsonText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonInt32 is a JSON integer that fits 32 bits (Jackson's isInt: no
// fraction, no exponent, no quotes).
func jsonInt32(raw json.RawMessage) (int32, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// WatchPreferredReplicaElection reads /admin/preferred_replica_election and
// leaves one watch on it: a data watch while it exists (it fires when the
// znode changes or is deleted), an exists watch when it does not (it fires
// when the znode is created). ok is false when the znode is missing.
func (c *Client) WatchPreferredReplicaElection(ctx context.Context) (data []byte, ok bool, changed <-chan struct{}, err error) {
	data, stat, ch, err := c.getW(ctx, PreferredReplicaElectionPath)
	if err != nil {
		return nil, false, nil, err
	}
	return data, stat != nil, ch, nil
}

// DeletePreferredReplicaElection deletes /admin/preferred_replica_election,
// fenced by the controller epoch. Already gone: nil.
func (c *Client) DeletePreferredReplicaElection(ctx context.Context, f Fence) error {
	return c.fencedDelete(ctx, f, "delete "+PreferredReplicaElectionPath, []string{PreferredReplicaElectionPath})
}
