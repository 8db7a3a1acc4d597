package txn

import (
	"context"
	"fmt"
	"sync"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

// BlockSource hands out blocks of producer ids (zkmeta.Client in the
// broker).
type BlockSource interface {
	AllocateProducerIDBlock(ctx context.Context, broker model.BrokerID) (zkmeta.ProducerIDBlock, error)
}

// ProducerIDs gives out producer ids from blocks taken in ZooKeeper.
type ProducerIDs struct {
	broker model.BrokerID
	src    BlockSource

	mu    sync.Mutex
	next  int64 // guarded by mu
	end   int64 // guarded by mu; inclusive; next > end means no block
	block bool  // guarded by mu
}

// NewProducerIDs returns an allocator for broker; the first block is taken
// on first use.
func NewProducerIDs(broker model.BrokerID, src BlockSource) *ProducerIDs {
	return &ProducerIDs{broker: broker, src: src}
}

// Next returns a producer id never handed out before in the cluster.
func (p *ProducerIDs) Next(ctx context.Context) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.block || p.next > p.end {
		b, err := p.src.AllocateProducerIDBlock(ctx, p.broker)
		if err != nil {
			return -1, fmt.Errorf("taking a block of producer ids: %w", err)
		}
		p.next, p.end, p.block = b.Start, b.End, true
	}
	id := p.next
	p.next++
	return id, nil
}
