package txn

import (
	"context"
	"errors"
	"testing"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

type fakeBlocks struct {
	next  int64
	calls int
	fail  bool
}

func (f *fakeBlocks) AllocateProducerIDBlock(_ context.Context, b model.BrokerID) (zkmeta.ProducerIDBlock, error) {
	f.calls++
	if f.fail {
		return zkmeta.ProducerIDBlock{}, errors.New("zookeeper down")
	}
	blk := zkmeta.ProducerIDBlock{Broker: b, Start: f.next, End: f.next + 2}
	f.next += 3
	return blk, nil
}

func TestProducerIDsUseWholeBlocksInOrder(t *testing.T) {
	src := &fakeBlocks{next: 3000}
	p := NewProducerIDs(1, src)
	for want := int64(3000); want < 3009; want++ {
		got, err := p.Next(context.Background())
		if err != nil || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, err, want)
		}
	}
	if src.calls != 3 {
		t.Fatalf("%d blocks taken, want 3", src.calls)
	}
	src.fail = true
	if _, err := p.Next(context.Background()); err == nil {
		t.Fatal("no error when no block can be taken")
	}
	src.fail = false
	if got, err := p.Next(context.Background()); err != nil || got != 3009 {
		t.Fatalf("after a failure: %d, %v", got, err)
	}
}
