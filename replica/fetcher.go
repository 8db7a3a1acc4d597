package replica

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// fetcher copies the logs of some of the partitions led by one broker
// (Kafka's replica fetcher thread; num.replica.fetchers per source broker,
// partitions spread by fetcherIndex).
type fetcher struct {
	m      *Manager
	leader model.BrokerID
	conn   *interbroker.Conn
	log    zerolog.Logger

	mu     sync.Mutex
	parts  map[model.TopicPartition]*fetchState // guarded by mu
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type fetchState struct {
	p          *partition.Partition
	delayUntil time.Time // back-off after an error
	fenced     bool      // wait for a new LeaderAndIsr
}

func newFetcher(m *Manager, leader model.BrokerID, addr string) *fetcher {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fetcher{
		m: m, leader: leader,
		conn:  interbroker.NewConn(addr, "broker-"+strconv.Itoa(int(m.opts.LocalID))+"-fetcher", m.opts.SocketTimeout),
		log:   m.log.With().Int32("leader", int32(leader)).Logger(),
		parts: map[model.TopicPartition]*fetchState{},
		wake:  make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	go f.run()
	return f
}

func (f *fetcher) add(p *partition.Partition) {
	f.mu.Lock()
	f.parts[p.TopicPartition()] = &fetchState{p: p}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fetcher) remove(tp model.TopicPartition) (empty bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.parts, tp)
	return len(f.parts) == 0
}

func (f *fetcher) close() {
	f.cancel()
	<-f.done
	f.conn.Close()
}

// addFetcher starts fetching a partition from its leader.
func (m *Manager) addFetcher(leader model.BrokerID, p *partition.Partition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	addr, ok := m.leaders[leader]
	if !ok {
		m.log.Warn().Int32("leader", int32(leader)).Str("partition", p.TopicPartition().String()).Msg("no address for the leader; not fetching")
		return
	}
	key := fetcherKey{leader, fetcherIndex(p.TopicPartition(), m.opts.NumFetchers)}
	f := m.fetchers[key]
	if f != nil && f.conn.Addr() != addr {
		go f.close()
		f = nil
	}
	if f == nil {
		f = newFetcher(m, leader, addr)
		m.fetchers[key] = f
	}
	f.add(p)
}

// removeFetcher stops fetching a partition, wherever from.
func (m *Manager) removeFetcher(tp model.TopicPartition) {
	m.mu.Lock()
	var idle []*fetcher
	for id, f := range m.fetchers {
		if f.remove(tp) {
			idle = append(idle, f)
			delete(m.fetchers, id)
		}
	}
	m.mu.Unlock()
	for _, f := range idle {
		go f.close()
	}
}

func (f *fetcher) run() {
	defer close(f.done)
	for f.ctx.Err() == nil {
		req, states := f.buildRequest()
		if req == nil {
			select {
			case <-f.ctx.Done():
				return
			case <-f.wake:
			case <-time.After(f.m.opts.FetchBackoff):
			}
			continue
		}
		resp, err := f.conn.Request(f.ctx, req)
		if err != nil {
			if f.ctx.Err() != nil {
				return
			}
			f.log.Warn().Err(err).Msg("fetch from leader failed; backing off")
			f.sleep(f.m.opts.FetchBackoff)
			continue
		}
		f.handle(resp.(*kmsg.FetchResponse), states)
	}
}

func (f *fetcher) sleep(d time.Duration) {
	select {
	case <-f.ctx.Done():
	case <-time.After(d):
	}
}

// fetchVersion is the Fetch version followers use: v12 carries
// lastFetchedEpoch and answers with diverging epochs, and still names
// topics.
const fetchVersion = 12

func (f *fetcher) buildRequest() (*kmsg.FetchRequest, map[model.TopicPartition]*fetchState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	req := kmsg.NewPtrFetchRequest()
	req.Version = fetchVersion
	req.ReplicaID = int32(f.m.opts.LocalID)
	req.MaxWaitMillis = int32(f.m.opts.FetchMaxWait / time.Millisecond)
	req.MinBytes = f.m.opts.FetchMinBytes
	req.MaxBytes = f.m.opts.FetchMaxBytes
	req.SessionEpoch = -1
	states := map[model.TopicPartition]*fetchState{}
	topics := map[string]int{}
	for tp, st := range f.parts {
		if st.fenced || now.Before(st.delayUntil) {
			continue
		}
		l := st.p.Log()
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = tp.Partition
		rp.CurrentLeaderEpoch = int32(st.p.LeaderEpoch())
		rp.FetchOffset = int64(l.LogEndOffset())
		rp.LastFetchedEpoch = int32(l.LatestEpoch())
		rp.LogStartOffset = int64(l.LogStartOffset())
		rp.PartitionMaxBytes = f.m.opts.FetchPartitionMax
		i, ok := topics[tp.Topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = tp.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			topics[tp.Topic] = i
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		states[tp] = st
	}
	if len(states) == 0 {
		return nil, nil
	}
	return req, states
}

func (f *fetcher) handle(resp *kmsg.FetchResponse, states map[model.TopicPartition]*fetchState) {
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			tp := model.TopicPartition{Topic: t.Topic, Partition: rp.Partition}
			st, ok := states[tp]
			if !ok {
				continue
			}
			if err := f.handlePartition(st, rp); err != nil {
				f.log.Warn().Err(err).Str("partition", tp.String()).Msg("follower fetch")
				f.mu.Lock()
				if kerr.ErrorForCode(rp.ErrorCode) == kerr.FencedLeaderEpoch {
					st.fenced = true
				} else {
					st.delayUntil = time.Now().Add(f.m.opts.FetchBackoff)
				}
				f.mu.Unlock()
			}
		}
	}
}

func (f *fetcher) handlePartition(st *fetchState, rp kmsg.FetchResponseTopicPartition) error {
	p := st.p
	switch err := kerr.ErrorForCode(rp.ErrorCode); err {
	case nil:
	case kerr.OffsetOutOfRange:
		return f.handleOutOfRange(p)
	default:
		return err
	}
	if rp.DivergingEpoch.Epoch >= 0 && rp.DivergingEpoch.EndOffset >= 0 {
		return f.truncateToDivergence(p, model.LeaderEpoch(rp.DivergingEpoch.Epoch), model.Offset(rp.DivergingEpoch.EndOffset))
	}
	if len(rp.RecordBatches) > 0 {
		if _, err := p.AppendAsFollower(rp.RecordBatches, model.Offset(rp.HighWatermark)); err != nil {
			return err
		}
	} else {
		p.UpdateFollowerHW(model.Offset(rp.HighWatermark))
	}
	if rp.LogStartOffset > int64(p.LogStartOffset()) && rp.LogStartOffset <= int64(p.HighWatermark()) {
		_ = p.Log().IncrementLogStartOffset(model.Offset(rp.LogStartOffset))
	}
	return nil
}

// truncateToDivergence applies Kafka's rule: if this replica knows the
// leader's epoch, truncate to the smaller of both ends of that epoch (and
// the local end); otherwise to the end of the largest epoch it knows below
// the leader's, and fetch again (which finds the next divergence if any).
func (f *fetcher) truncateToDivergence(p *partition.Partition, epoch model.LeaderEpoch, leaderEnd model.Offset) error {
	l := p.Log()
	fe, fend := l.EndOffsetForEpoch(epoch)
	target := fend
	if fe == epoch {
		target = min(fend, leaderEnd)
	}
	if fend < 0 {
		target = l.HighWatermark()
	}
	target = min(target, l.LogEndOffset())
	f.log.Info().Str("partition", p.TopicPartition().String()).Int32("epoch", int32(epoch)).Int64("leaderEnd", int64(leaderEnd)).
		Int64("truncateTo", int64(target)).Msg("truncating to the leader's log after a diverging epoch")
	_, err := l.TruncateTo(target)
	p.Notify()
	return err
}

// handleOutOfRange follows Kafka: if the leader's log ends before ours
// (an unclean election), truncate to its end; if it starts after our end,
// restart at its start.
func (f *fetcher) handleOutOfRange(p *partition.Partition) error {
	tp := p.TopicPartition()
	end, err := f.leaderOffset(tp, int32(p.LeaderEpoch()), -1)
	if err != nil {
		return err
	}
	l := p.Log()
	if end < int64(l.LogEndOffset()) {
		f.log.Warn().Str("partition", tp.String()).Int64("leaderEnd", end).Msg("the leader's log ends before ours; truncating")
		_, err := l.TruncateTo(model.Offset(end))
		return err
	}
	start, err := f.leaderOffset(tp, int32(p.LeaderEpoch()), -2)
	if err != nil {
		return err
	}
	if int64(l.LogEndOffset()) < start {
		f.log.Warn().Str("partition", tp.String()).Int64("leaderStart", start).Msg("the leader's log starts after ours ends; restarting there")
		return l.TruncateFullyAndStartAt(model.Offset(start))
	}
	return nil
}

func (f *fetcher) leaderOffset(tp model.TopicPartition, epoch int32, ts int64) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = 4
	req.ReplicaID = int32(f.m.opts.LocalID)
	t := kmsg.NewListOffsetsRequestTopic()
	t.Topic = tp.Topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.Timestamp = tp.Partition, epoch, ts
	t.Partitions = append(t.Partitions, rp)
	req.Topics = append(req.Topics, t)
	resp, err := f.conn.Request(f.ctx, req)
	if err != nil {
		return 0, err
	}
	for _, t := range resp.(*kmsg.ListOffsetsResponse).Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return 0, err
			}
			return p.Offset, nil
		}
	}
	return 0, kerr.UnknownServerError
}
