package zkmeta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/go-zookeeper/zk"

	"github.com/kbroker/kbroker/model"
)

// ProducerIDBlockSize is the number of producer ids a broker takes at a
// time (Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE).
const ProducerIDBlockSize = 1000

// ProducerIDBlock is the content of /latest_producer_id_block: the last
// block handed out, both ends inclusive.
type ProducerIDBlock struct {
	Broker model.BrokerID
	Start  int64
	End    int64
}

// MarshalProducerIDBlock renders
// {"version":1,"broker":2,"block_start":"1000","block_end":"1999"} (the
// ends are decimal strings, as Kafka writes them).
func MarshalProducerIDBlock(b ProducerIDBlock) []byte {
	out := make([]byte, 0, 80)
	out = append(out, '{')
	out = appendKey(out, "version")
	out = strconv.AppendInt(out, 1, 10)
	out = appendKey(out, "broker")
	out = strconv.AppendInt(out, int64(b.Broker), 10)
	out = appendKey(out, "block_start")
	out = appendString(out, strconv.FormatInt(b.Start, 10))
	out = appendKey(out, "block_end")
	out = appendString(out, strconv.FormatInt(b.End, 10))
	return append(out, '}')
}

// ParseProducerIDBlock reads /latest_producer_id_block.
func ParseProducerIDBlock(data []byte) (ProducerIDBlock, error) {
	var j struct {
		Broker *int32  `json:"broker"`
		Start  *string `json:"block_start"`
		End    *string `json:"block_end"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return ProducerIDBlock{}, fmt.Errorf("zkmeta: %s: %w", ProducerIDBlockPath, err)
	}
	if j.Start == nil || j.End == nil {
		return ProducerIDBlock{}, fmt.Errorf("zkmeta: %s %s: no block_start or block_end", ProducerIDBlockPath, data)
	}
	start, err1 := strconv.ParseInt(*j.Start, 10, 64)
	end, err2 := strconv.ParseInt(*j.End, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return ProducerIDBlock{}, fmt.Errorf("zkmeta: %s %s: bad block", ProducerIDBlockPath, data)
	}
	b := ProducerIDBlock{Start: start, End: end, Broker: -1}
	if j.Broker != nil {
		b.Broker = model.BrokerID(*j.Broker)
	}
	return b, nil
}

// ErrProducerIDsExhausted means the next block would pass the largest
// int64.
var ErrProducerIDsExhausted = errors.New("zkmeta: all producer ids have been handed out")

// AllocateProducerIDBlock takes the next block of producer ids for broker
// (Kafka's ZkProducerIdManager.getNewProducerIdBlock): read the node and its
// version, start after the last block's end (at 0 when the node is empty or
// missing), and write the new block with a version check, again from the
// read if another broker won the race.
func (c *Client) AllocateProducerIDBlock(ctx context.Context, broker model.BrokerID) (ProducerIDBlock, error) {
	for attempt := 0; attempt < 100; attempt++ {
		data, stat, err := c.get(ctx, ProducerIDBlockPath)
		missing := errors.Is(err, zk.ErrNoNode)
		if err != nil && !missing {
			return ProducerIDBlock{}, err
		}
		start := int64(0)
		if !missing && len(data) > 0 {
			last, err := ParseProducerIDBlock(data)
			if err != nil {
				return ProducerIDBlock{}, err
			}
			if last.End > math.MaxInt64-ProducerIDBlockSize {
				return ProducerIDBlock{}, ErrProducerIDsExhausted
			}
			start = last.End + 1
		}
		next := ProducerIDBlock{Broker: broker, Start: start, End: start + ProducerIDBlockSize - 1}
		if missing {
			err = c.createRecursive(ctx, ProducerIDBlockPath, MarshalProducerIDBlock(next), 0)
			if errors.Is(err, zk.ErrNodeExists) {
				continue
			}
		} else {
			_, err = c.set(ctx, ProducerIDBlockPath, MarshalProducerIDBlock(next), stat.Version)
			if errors.Is(err, zk.ErrBadVersion) {
				continue
			}
		}
		if err != nil {
			return ProducerIDBlock{}, err
		}
		return next, nil
	}
	return ProducerIDBlock{}, fmt.Errorf("zkmeta: %s keeps changing", ProducerIDBlockPath)
}
