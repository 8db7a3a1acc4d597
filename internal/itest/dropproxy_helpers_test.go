package itest

// A TCP proxy for TestIdempotentDrop (idempotent_drop_test.go). It sits
// between clients and one broker listener, reads the Kafka frames going
// both ways, and cuts connections around Produce requests following a
// dropPlan shared by all the proxies of a test:
//
//   - dropRequest: the request is never forwarded; the connection is
//     closed (the batch is not in the log, the retry writes it);
//   - dropAnswer: the request is forwarded, the broker's whole answer is
//     read and thrown away, then the connection is closed (the batch is
//     in the log, the client does not know);
//   - cutAnswer: as dropAnswer, but half of the answer's bytes reach the
//     client before the close.
//
// The plan decodes the Produce requests and answers it sees: for every
// batch the broker acknowledged while its answer was withheld it notes the
// base offset, and checks that the retry of that batch (same producer id,
// epoch, first sequence and record count) is answered with the same
// offset, i.e. that the broker recognised the duplicate instead of writing
// it again.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type dropMode int

const (
	passThrough dropMode = iota
	dropRequest
	dropAnswer
	cutAnswer
)

func (m dropMode) String() string {
	return [...]string{"pass", "drop-request", "drop-answer", "cut-answer"}[m]
}

// batchKey names one batch an idempotent producer sent to one partition;
// a retry of the batch carries the same key.
type batchKey struct {
	topic      string
	partition  int32
	producerID int64
	epoch      int16
	firstSeq   int32
	records    int32
}

func (k batchKey) String() string {
	return fmt.Sprintf("%s/%d pid %d epoch %d seq %d+%d", k.topic, k.partition, k.producerID, k.epoch, k.firstSeq, k.records)
}

// topicPart is a partition of a topic.
type topicPart struct {
	topic     string
	partition int32
}

// dropPlan decides the fate of every Produce request crossing its proxies
// and keeps the counts.
type dropPlan struct {
	choose func(n int64) dropMode // for the n-th Produce request (from 0)

	mu       sync.Mutex
	produces int64            // Produce requests seen
	modes    map[dropMode]int // how many of each were applied
	// Batches the broker acknowledged (error NONE) in an answer the
	// client never received in full, with their base offset.
	lost map[batchKey]int64
	// Answers lost with acknowledged batches in them (by dropAnswer or
	// cutAnswer): the "written, not acknowledged" case.
	writtenUnacked int
	// Retries of lost batches answered with the original base offset.
	dedupAnswered int
	answered      map[batchKey]bool
	problems      []string       // retries of lost batches answered otherwise
	partErrors    map[string]int // partition errors in forwarded Produce answers
	conns         int            // client connections accepted
	undecoded     int            // Produce frames the plan could not decode
}

func newDropPlan(choose func(n int64) dropMode) *dropPlan {
	return &dropPlan{choose: choose, modes: map[dropMode]int{}, lost: map[batchKey]int64{},
		answered: map[batchKey]bool{}, partErrors: map[string]int{}}
}

// next decides the fate of the next Produce request.
func (pl *dropPlan) next() dropMode {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	m := pl.choose(pl.produces)
	pl.produces++
	pl.modes[m]++
	return m
}

// answer takes note of a Produce answer for batches (by partition) that
// was forwarded (mode passThrough) or withheld (dropAnswer, cutAnswer).
func (pl *dropPlan) answer(mode dropMode, batches map[topicPart]batchKey, resp *kmsg.ProduceResponse) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	wrote := false
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			k, ok := batches[topicPart{rt.Topic, rp.Partition}]
			if !ok {
				pl.problems = append(pl.problems, fmt.Sprintf("answer for %s/%d, not in the request", rt.Topic, rp.Partition))
				continue
			}
			if rp.ErrorCode != 0 {
				pl.partErrors[kerr.ErrorForCode(rp.ErrorCode).Error()]++
				continue
			}
			wrote = true
			if k.producerID < 0 {
				continue // not idempotent: nothing to recognise a retry by
			}
			orig, seen := pl.lost[k]
			switch {
			case seen && rp.BaseOffset != orig:
				pl.problems = append(pl.problems, fmt.Sprintf("%v: written at offset %d, its retry answered with offset %d (%s)",
					k, orig, rp.BaseOffset, mode))
			case seen && mode == passThrough:
				pl.dedupAnswered++
				pl.answered[k] = true
			case !seen && mode != passThrough:
				pl.lost[k] = rp.BaseOffset
			}
		}
	}
	if wrote && mode != passThrough {
		pl.writtenUnacked++
	}
}

// unanswered lists the lost batches whose retry never got an answer
// through a proxy.
func (pl *dropPlan) unanswered() []string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var out []string
	for k := range pl.lost {
		if !pl.answered[k] {
			out = append(out, k.String())
		}
	}
	sort.Strings(out)
	return out
}

func (pl *dropPlan) summary() string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var errs []string
	for e, n := range pl.partErrors {
		errs = append(errs, fmt.Sprintf("%d× %s", n, e))
	}
	sort.Strings(errs)
	return fmt.Sprintf("%d connections, %d Produce requests: %d passed, %d dropped before the broker, %d answers dropped, %d answers cut; "+
		"%d lost answers had written batches (%d batches), %d retries answered with the original offset; partition errors [%s]",
		pl.conns, pl.produces, pl.modes[passThrough], pl.modes[dropRequest], pl.modes[dropAnswer], pl.modes[cutAnswer],
		pl.writtenUnacked, len(pl.lost), pl.dedupAnswered, strings.Join(errs, ", "))
}

// dropProxy forwards the connections it accepts to one target address.
type dropProxy struct {
	t    testing.TB
	plan *dropPlan
	ln   net.Listener

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[*proxyConn]struct{}
	closed bool
}

// newDropProxy listens on a free local port; serve starts forwarding.
// It is closed at the end of the test.
func newDropProxy(t testing.TB, plan *dropPlan) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{t: t, plan: plan, ln: ln, conns: map[*proxyConn]struct{}{}}
	t.Cleanup(p.close)
	return p
}

func (p *dropProxy) Addr() string { return p.ln.Addr().String() }

// serve accepts connections (those already waiting too) and forwards
// them to target.
func (p *dropProxy) serve(target string) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			s, err := net.DialTimeout("tcp", target, 10*time.Second)
			if err != nil {
				p.t.Logf("proxy %s: dial %s: %v", p.Addr(), target, err)
				c.Close()
				continue
			}
			pc := &proxyConn{proxy: p, client: c, server: s, pending: map[int32]pendingReq{}}
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				pc.close()
				return
			}
			p.conns[pc] = struct{}{}
			p.mu.Unlock()
			p.plan.mu.Lock()
			p.plan.conns++
			p.plan.mu.Unlock()
			p.wg.Add(2)
			go pc.requests()
			go pc.answers()
		}
	}()
}

func (p *dropProxy) close() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*proxyConn, 0, len(p.conns))
	for pc := range p.conns {
		conns = append(conns, pc)
	}
	p.mu.Unlock()
	p.ln.Close()
	for _, pc := range conns {
		pc.close()
	}
	p.wg.Wait()
}

// pendingReq is a forwarded request waiting for its answer.
type pendingReq struct {
	key, version int16
	mode         dropMode
	batches      map[topicPart]batchKey // Produce: by (topic, partition)
}

// proxyConn is one client connection and its connection to the target.
type proxyConn struct {
	proxy          *dropProxy
	client, server net.Conn
	closeOnce      sync.Once

	mu      sync.Mutex
	pending map[int32]pendingReq // by correlation id
}

func (pc *proxyConn) close() {
	pc.closeOnce.Do(func() {
		pc.client.Close()
		pc.server.Close()
		pc.proxy.mu.Lock()
		delete(pc.proxy.conns, pc)
		pc.proxy.mu.Unlock()
	})
}

// readFrame reads one size-prefixed frame, prefix included.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 64<<20 {
		return nil, fmt.Errorf("frame size %d", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}

// requests forwards client → server, deciding the fate of each Produce.
func (pc *proxyConn) requests() {
	defer pc.proxy.wg.Done()
	defer pc.close()
	for {
		frame, err := readFrame(pc.client)
		if err != nil {
			return
		}
		if len(frame) < 12 {
			return
		}
		key := int16(binary.BigEndian.Uint16(frame[4:]))
		version := int16(binary.BigEndian.Uint16(frame[6:]))
		corr := int32(binary.BigEndian.Uint32(frame[8:]))
		req := pendingReq{key: key, version: version}
		if key == 0 { // Produce
			req.mode = pc.proxy.plan.next()
			if req.mode == dropRequest {
				return
			}
			req.batches, err = produceBatches(frame[4:], version)
			if err != nil {
				pc.proxy.plan.mu.Lock()
				pc.proxy.plan.undecoded++
				pc.proxy.plan.problems = append(pc.proxy.plan.problems, fmt.Sprintf("Produce v%d request: %v", version, err))
				pc.proxy.plan.mu.Unlock()
			}
		}
		pc.mu.Lock()
		pc.pending[corr] = req
		pc.mu.Unlock()
		if _, err := pc.server.Write(frame); err != nil {
			return
		}
	}
}

// answers forwards server → client, withholding or cutting the answers of
// the Produce requests the plan chose.
func (pc *proxyConn) answers() {
	defer pc.proxy.wg.Done()
	defer pc.close()
	plan := pc.proxy.plan
	for {
		frame, err := readFrame(pc.server)
		if err != nil {
			return
		}
		corr := int32(binary.BigEndian.Uint32(frame[4:]))
		pc.mu.Lock()
		req, ok := pc.pending[corr]
		delete(pc.pending, corr)
		pc.mu.Unlock()
		if ok && req.key == 0 && req.batches != nil {
			resp, err := decodeProduceAnswer(frame[8:], req.version)
			if err != nil {
				plan.mu.Lock()
				plan.undecoded++
				plan.problems = append(plan.problems, fmt.Sprintf("Produce v%d answer: %v", req.version, err))
				plan.mu.Unlock()
			} else {
				plan.answer(req.mode, req.batches, resp)
			}
		}
		switch {
		case ok && req.key == 0 && req.mode == dropAnswer:
			return
		case ok && req.key == 0 && req.mode == cutAnswer:
			_, _ = pc.client.Write(frame[:len(frame)/2])
			return
		}
		if _, err := pc.client.Write(frame); err != nil {
			return
		}
	}
}

// skipTags skips a tagged-field section.
func skipTags(b []byte) ([]byte, error) {
	n, used := binary.Uvarint(b)
	if used <= 0 {
		return nil, errors.New("bad tag count")
	}
	b = b[used:]
	for i := uint64(0); i < n; i++ {
		_, used := binary.Uvarint(b)
		if used <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[used:]
		size, used := binary.Uvarint(b)
		if used <= 0 || uint64(len(b)-used) < size {
			return nil, errors.New("bad tag size")
		}
		b = b[used+int(size):]
	}
	return b, nil
}

// produceBatches decodes a Produce request (header and body, without the
// size prefix) into the batch it carries for each partition.
func produceBatches(msg []byte, version int16) (map[topicPart]batchKey, error) {
	b := msg[8:] // api key, version, correlation id
	if len(b) < 2 {
		return nil, errors.New("short header")
	}
	if n := int16(binary.BigEndian.Uint16(b)); n > 0 {
		if len(b) < 2+int(n) {
			return nil, errors.New("short client id")
		}
		b = b[2+int(n):]
	} else {
		b = b[2:]
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version = version
	if req.IsFlexible() {
		var err error
		if b, err = skipTags(b); err != nil {
			return nil, err
		}
	}
	if err := req.ReadFrom(b); err != nil {
		return nil, err
	}
	out := map[topicPart]batchKey{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			var batch kmsg.RecordBatch
			if err := batch.ReadFrom(rp.Records); err != nil {
				return nil, fmt.Errorf("%s/%d: %v", rt.Topic, rp.Partition, err)
			}
			if int(batch.Length)+12 != len(rp.Records) {
				return nil, fmt.Errorf("%s/%d: more than one batch", rt.Topic, rp.Partition)
			}
			out[topicPart{rt.Topic, rp.Partition}] = batchKey{topic: rt.Topic, partition: rp.Partition,
				producerID: batch.ProducerID, epoch: batch.ProducerEpoch, firstSeq: batch.FirstSequence, records: batch.NumRecords}
		}
	}
	return out, nil
}

// decodeProduceAnswer decodes a Produce answer after its correlation id.
func decodeProduceAnswer(b []byte, version int16) (*kmsg.ProduceResponse, error) {
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = version
	if resp.IsFlexible() {
		var err error
		if b, err = skipTags(b); err != nil {
			return nil, err
		}
	}
	if err := resp.ReadFrom(b); err != nil {
		return nil, err
	}
	return resp, nil
}
