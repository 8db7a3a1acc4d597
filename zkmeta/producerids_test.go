package zkmeta

import (
	"sync"
	"testing"

	"github.com/kbroker/kbroker/model"
)

func TestProducerIDBlockCodec(t *testing.T) {
	b := ProducerIDBlock{Broker: 2, Start: 1000, End: 1999}
	want := `{"version":1,"broker":2,"block_start":"1000","block_end":"1999"}`
	if got := string(MarshalProducerIDBlock(b)); got != want {
		t.Fatalf("marshal = %s, want %s", got, want)
	}
	back, err := ParseProducerIDBlock([]byte(want))
	if err != nil || back != b {
		t.Fatalf("parse = %+v, %v", back, err)
	}
	for _, bad := range []string{`{}`, `{"block_start":"x","block_end":"1"}`, `{"block_start":"5","block_end":"4"}`, `not json`} {
		if _, err := ParseProducerIDBlock([]byte(bad)); err == nil {
			t.Errorf("parsed %s", bad)
		}
	}
}

func TestAllocateProducerIDBlocks(t *testing.T) {
	e := newEnv(t)
	a := e.client()
	if err := a.CreateTopLevelPaths(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The node Kafka creates empty at startup: the first block is 0..999.
	b, err := a.AllocateProducerIDBlock(ctxT(t), 1)
	if err != nil || b != (ProducerIDBlock{Broker: 1, Start: 0, End: 999}) {
		t.Fatalf("first block %+v, %v", b, err)
	}
	e.wantData(ProducerIDBlockPath, `{"version":1,"broker":1,"block_start":"0","block_end":"999"}`, false)
	// Brokers racing each get their own block.
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(id model.BrokerID) {
			defer wg.Done()
			c := e.client()
			for j := 0; j < 3; j++ {
				blk, err := c.AllocateProducerIDBlock(ctxT(t), id)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[blk.Start] || blk.End != blk.Start+999 || blk.Start%1000 != 0 {
					t.Errorf("block %+v handed out twice or misshapen", blk)
				}
				seen[blk.Start] = true
				mu.Unlock()
			}
		}(model.BrokerID(i))
	}
	wg.Wait()
	if len(seen) != 12 {
		t.Fatalf("%d blocks, want 12", len(seen))
	}
	for s := int64(1000); s <= 12000; s += 1000 {
		if !seen[s] {
			t.Fatalf("block at %d missing: %v", s, seen)
		}
	}
}
