package txn

import (
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/coordshard"
	"github.com/kbroker/kbroker/model"
)

// StateTopic is the internal topic holding the transaction coordinator's
// state, one record per transactional id (compacted).
const StateTopic = "__transaction_state"

// PartitionFor is the __transaction_state partition of a transactional id
// out of n partitions: abs(hashCode(id)) % n with Kafka's Utils.abs. The
// transaction coordinator of the id is the leader of that partition.
func PartitionFor(transactionalID string, n int32) int32 {
	return coordshard.PartitionFor(transactionalID, n)
}

// State is a transaction state, numbered as in the log records.
type State int8

// Kafka's transaction states (TransactionState ids).
const (
	Empty             State = 0
	Ongoing           State = 1
	PrepareCommit     State = 2
	PrepareAbort      State = 3
	CompleteCommit    State = 4
	CompleteAbort     State = 5
	Dead              State = 6
	PrepareEpochFence State = 7
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

// String is Kafka's name of the state (DescribeTransactions,
// ListTransactions).
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("Unknown(%d)", int8(s))
}

// StateByName maps Kafka's state names to states.
func StateByName(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// Record versions written, as Kafka 3.9 writes them with transaction.version
// 0 (always so in ZooKeeper mode): key 0, value 0 (not flexible).
const (
	keyVersion   int16 = 0
	valueVersion int16 = 0
)

// ErrUnknownKeyVersion marks a record whose key is not a transaction log
// key; loading skips it.
var ErrUnknownKeyVersion = errors.New("unknown __transaction_state key version")

// Metadata is the stored state of one transactional id (a value record).
type Metadata struct {
	ProducerID     int64
	ProducerEpoch  int16
	TimeoutMs      int32
	State          State
	Partitions     []model.TopicPartition // none when Empty
	LastUpdateMs   int64
	StartTimestamp int64 // -1 when no transaction started
}

// KeyBytes is the record key of a transactional id: int16 version 0, then
// the id as an int16-length string.
func KeyBytes(transactionalID string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.Version, k.TransactionalID = keyVersion, transactionalID
	return k.AppendTo(nil)
}

// ValueBytes is the record value of a state, version 0: the partitions are
// grouped by topic (topics sorted, partitions ascending) and null when the
// state is Empty, as Kafka writes them.
func ValueBytes(m *Metadata) []byte {
	v := kmsg.NewTxnMetadataValue()
	v.Version = valueVersion
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = m.ProducerID, m.ProducerEpoch, m.TimeoutMs
	v.State = kmsg.TransactionState(m.State)
	v.LastUpdateTimestamp, v.StartTimestamp = m.LastUpdateMs, m.StartTimestamp
	if m.State != Empty {
		v.Topics = groupByTopic(m.Partitions)
		if v.Topics == nil {
			v.Topics = []kmsg.TxnMetadataValueTopic{}
		}
	}
	return v.AppendTo(nil)
}

func groupByTopic(tps []model.TopicPartition) []kmsg.TxnMetadataValueTopic {
	byTopic := map[string][]int32{}
	for _, tp := range tps {
		byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
	}
	topics := make([]string, 0, len(byTopic))
	for t := range byTopic {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var out []kmsg.TxnMetadataValueTopic
	for _, t := range topics {
		ps := byTopic[t]
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		vt := kmsg.NewTxnMetadataValueTopic()
		vt.Topic, vt.Partitions = t, ps
		out = append(out, vt)
	}
	return out
}

// ParseRecord decodes one __transaction_state record: the transactional id
// and its state, nil for a tombstone (null value). A key of another version
// is ErrUnknownKeyVersion; a value of an unknown version or with trailing or
// missing bytes is an error.
func ParseRecord(key, value []byte) (string, *Metadata, error) {
	if len(key) < 2 {
		return "", nil, fmt.Errorf("__transaction_state key of %d bytes", len(key))
	}
	var k kmsg.TxnMetadataKey
	if ver := int16(key[0])<<8 | int16(key[1]); ver != keyVersion {
		return "", nil, fmt.Errorf("%w %d", ErrUnknownKeyVersion, ver)
	}
	if err := k.ReadFrom(key); err != nil {
		return "", nil, fmt.Errorf("decoding a __transaction_state key: %w", err)
	}
	if value == nil {
		return k.TransactionalID, nil, nil
	}
	if len(value) < 2 {
		return "", nil, fmt.Errorf("__transaction_state value of %d bytes", len(value))
	}
	if ver := int16(value[0])<<8 | int16(value[1]); ver < 0 || ver > 1 {
		return "", nil, fmt.Errorf("unknown __transaction_state value version %d", ver)
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return "", nil, fmt.Errorf("decoding the __transaction_state value of %q: %w", k.TransactionalID, err)
	}
	if v.State < 0 || int(v.State) >= len(stateNames) {
		return "", nil, fmt.Errorf("unknown transaction state %d for %q", int8(v.State), k.TransactionalID)
	}
	m := &Metadata{ProducerID: v.ProducerID, ProducerEpoch: v.ProducerEpoch, TimeoutMs: v.TimeoutMillis,
		State: State(v.State), LastUpdateMs: v.LastUpdateTimestamp, StartTimestamp: v.StartTimestamp}
	if m.State != Empty {
		for _, t := range v.Topics {
			for _, p := range t.Partitions {
				m.Partitions = append(m.Partitions, model.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	return k.TransactionalID, m, nil
}
