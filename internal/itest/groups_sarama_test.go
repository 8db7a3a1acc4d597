package itest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
)

// saramaMember is one sarama ConsumerGroup member that marks every record
// it receives and reports it to a shared collector.
type saramaMember struct {
	group  sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan struct{}
}

// collector gathers consumed values from several members.
type collector struct {
	mu   sync.Mutex
	seen map[string]int
	// claims records, per generation, which member claimed which
	// partitions.
	claims map[int32]map[int32]string
}

func newCollector() *collector {
	return &collector{seen: map[string]int{}, claims: map[int32]map[int32]string{}}
}

func (c *collector) count(want map[string]bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for v := range want {
		if c.seen[v] > 0 {
			n++
		}
	}
	return n
}

type saramaHandler struct {
	name string
	col  *collector
	t    *testing.T
}

func (h saramaHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.col.mu.Lock()
	defer h.col.mu.Unlock()
	gen := s.GenerationID()
	if h.col.claims[gen] == nil {
		h.col.claims[gen] = map[int32]string{}
	}
	for _, ps := range s.Claims() {
		for _, p := range ps {
			if other, ok := h.col.claims[gen][p]; ok {
				h.t.Errorf("generation %d: partition %d claimed by %s and %s", gen, p, other, h.name)
			}
			h.col.claims[gen][p] = h.name
		}
	}
	return nil
}

func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.col.mu.Lock()
		h.col.seen[string(m.Value)]++
		h.col.mu.Unlock()
		s.MarkMessage(m, "")
	}
	return nil
}

func startSaramaMember(t *testing.T, seeds []string, groupID, topic, name string, strategy sarama.BalanceStrategy, col *collector) *saramaMember {
	t.Helper()
	cfg := saramaConfig(sarama.V3_6_0_0, sarama.CompressionNone)
	cfg.ClientID = name
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{strategy}
	cfg.Consumer.Group.Session.Timeout = 10 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 20 * time.Second
	g, err := sarama.NewConsumerGroup(seeds, groupID, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &saramaMember{group: g, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, saramaHandler{name: name, col: col, t: t}); err != nil &&
				!errors.Is(err, sarama.ErrClosedConsumerGroup) && ctx.Err() == nil {
				t.Logf("%s: consume: %v", name, err)
			}
		}
	}()
	go func() {
		for err := range g.Errors() {
			t.Logf("%s: %v", name, err)
		}
	}()
	t.Cleanup(m.stop)
	return m
}

// stop leaves the group (committing what was marked) and waits.
func (m *saramaMember) stop() {
	m.cancel()
	<-m.done
	_ = m.group.Close()
}

// TestGroupsSarama: three sarama members per assignment strategy share a
// topic; a member leaves and another joins while records flow; every record
// is consumed, and the committed offsets end at the log end.
func TestGroupsSarama(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	for _, s := range []struct {
		name     string
		strategy sarama.BalanceStrategy
	}{
		{"range", sarama.NewBalanceStrategyRange()},
		{"roundrobin", sarama.NewBalanceStrategyRoundRobin()},
		{"sticky", sarama.NewBalanceStrategySticky()},
	} {
		t.Run(s.name, func(t *testing.T) {
			topic, groupID := "sg-"+s.name, "sarama-"+s.name
			createTopic(t, c, adm, topic, 6, 2, nil)
			col := newCollector()
			want := produceN(t, seeds, topic, "a", 240)
			members := make([]*saramaMember, 3)
			for i := range members {
				members[i] = startSaramaMember(t, seeds, groupID, topic, fmt.Sprintf("%s-m%d", s.name, i), s.strategy, col)
			}
			eventually(t, waitLong, "first records consumed", func() error {
				if n := col.count(want); n < len(want) {
					return fmt.Errorf("%d of %d", n, len(want))
				}
				return nil
			})
			ctx := testCtx(t, waitLong)
			d, err := adm.DescribeGroups(ctx, groupID)
			if err != nil || d[groupID].Protocol != s.name || d[groupID].ProtocolType != "consumer" {
				t.Fatalf("describe: protocol %q type %q (%v)", d[groupID].Protocol, d[groupID].ProtocolType, err)
			}

			// One member leaves, a new one joins, records keep coming.
			members[0].stop()
			members = append(members[1:], startSaramaMember(t, seeds, groupID, topic, s.name+"-m3", s.strategy, col))
			more := produceN(t, seeds, topic, "b", 120)
			for v := range more {
				want[v] = true
			}
			eventually(t, waitLong, "all records consumed", func() error {
				if n := col.count(want); n < len(want) {
					return fmt.Errorf("%d of %d", n, len(want))
				}
				return nil
			})
			for _, m := range members {
				m.stop()
			}
			ends, err := adm.ListEndOffsets(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, waitLong, "commits at the log end", func() error {
				committed, err := adm.FetchOffsets(ctx, groupID)
				if err != nil {
					return err
				}
				var bad error
				ends.Each(func(o kadm.ListedOffset) {
					if got, ok := committed.Lookup(topic, o.Partition); !ok || got.At != o.Offset {
						bad = fmt.Errorf("partition %d committed %d, end %d", o.Partition, got.At, o.Offset)
					}
				})
				return bad
			})
			col.mu.Lock()
			defer col.mu.Unlock()
			if len(col.claims) < 2 {
				t.Errorf("%d generations seen, want at least 2 (a member left and one joined)", len(col.claims))
			}
		})
	}
}
