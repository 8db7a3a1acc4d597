package itest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// idemMsg is what a test message carries as Metadata: its partition and
// its place in that partition's sequence.
type idemMsg struct {
	partition int32
	seq       int
}

func idemValue(p int32, seq int) string { return fmt.Sprintf("idempotent-drop p%d seq %06d", p, seq) }

// TestIdempotentDrop: sarama's idempotent producer, whose connections to
// the brokers are cut around Produce requests by proxies (see
// dropproxy_helpers_test.go): before the request reaches the broker, after
// the broker answered (answer thrown away), and halfway through the
// answer. Every cut makes sarama retry the batch with the same producer id
// and sequence numbers; when the batch was already written, the broker
// must answer the retry with the offsets it first gave, without writing
// it again. In the end every send is acknowledged, every acknowledged
// record is at the offset equal to its place in its partition's sequence,
// and reading the partitions back gives each sequence exactly once, in
// order: no duplicates, no gaps.
//
// The brokers have two listeners: INTERNAL, between brokers and for the
// test's own admin and consumer clients, and EXTERNAL, advertised at the
// proxy's address, so that the producer reaches every broker through its
// proxy only.
func TestIdempotentDrop(t *testing.T) {
	const (
		brokers    = 3
		partitions = 3
		perPart    = 1000
		topic      = "idempotent-drop"
	)
	started := time.Now()

	// Of every 6 Produce requests: one answer withheld, one answer cut
	// halfway, one request never forwarded. A retry is a new request, so
	// every batch gets through in the end.
	plan := newDropPlan(func(n int64) dropMode {
		switch n % 6 {
		case 1:
			return dropAnswer
		case 3:
			return cutAnswer
		case 5:
			return dropRequest
		}
		return passThrough
	})
	proxies := make([]*dropProxy, brokers)
	for i := range proxies {
		proxies[i] = newDropProxy(t, plan)
	}
	c := newCluster(t, brokers, map[string]string{
		"listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
		"inter.broker.listener.name":     "INTERNAL",
	}, testcluster.PerBroker(func(i int, props map[string]string) {
		props["listeners"] = "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0"
		props["advertised.listeners"] = "INTERNAL://127.0.0.1:0,EXTERNAL://" + proxies[i].Addr()
	}))
	var viaProxies []string
	for i, b := range c.Brokers() {
		proxies[i].serve(b.ListenerAddr("EXTERNAL"))
		viaProxies = append(viaProxies, proxies[i].Addr())
	}
	adm := newAdmin(t, c) // INTERNAL: the first listener
	createTopic(t, c, adm, topic, partitions, brokers, nil)

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_9_0_0
	cfg.ClientID = "kbroker-itest-idempotent-drop"
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Flush.MaxMessages = 20 // many small batches, many requests to cut
	cfg.Producer.Retry.Max = 1000
	cfg.Producer.Retry.Backoff = 10 * time.Millisecond
	cfg.Producer.Timeout = 30 * time.Second
	cfg.Metadata.Retry.Max = 100
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Net.ReadTimeout = 30 * time.Second
	cfg.Net.WriteTimeout = 30 * time.Second
	producing := time.Now()
	prod, err := sarama.NewAsyncProducer(viaProxies, cfg)
	if err != nil {
		t.Fatalf("sarama producer: %v", err)
	}

	type outcome struct {
		m   *sarama.ProducerMessage
		err error
	}
	outcomes := make(chan outcome, partitions*perPart)
	go func() {
		for m := range prod.Successes() {
			outcomes <- outcome{m: m}
		}
	}()
	go func() {
		for e := range prod.Errors() {
			outcomes <- outcome{m: e.Msg, err: e.Err}
		}
	}()
	go func() {
		for seq := 0; seq < perPart; seq++ {
			for p := int32(0); p < partitions; p++ {
				prod.Input() <- &sarama.ProducerMessage{Topic: topic, Partition: p,
					Value: sarama.StringEncoder(idemValue(p, seq)), Metadata: idemMsg{p, seq}}
			}
		}
	}()

	// Every send's outcome. With offsets starting at 0 on a new topic and
	// each record written once, sequence number = offset.
	acked := make([]map[int]int64, partitions) // partition → seq → offset
	for p := range acked {
		acked[p] = map[int]int64{}
	}
	failed := 0
	deadline := time.After(waitLong)
	for n := 0; n < partitions*perPart; n++ {
		select {
		case o := <-outcomes:
			id := o.m.Metadata.(idemMsg)
			if o.err != nil {
				failed++
				if failed <= 10 {
					t.Errorf("p%d seq %d not acknowledged: %v", id.partition, id.seq, o.err)
				}
				continue
			}
			if o.m.Partition != id.partition {
				t.Errorf("p%d seq %d acknowledged on partition %d", id.partition, id.seq, o.m.Partition)
			}
			if prev, dup := acked[id.partition][id.seq]; dup {
				t.Errorf("p%d seq %d acknowledged twice (offsets %d and %d)", id.partition, id.seq, prev, o.m.Offset)
			}
			acked[id.partition][id.seq] = o.m.Offset
		case <-deadline:
			t.Fatalf("%d of %d sends have an outcome after %v; proxies: %s", n, partitions*perPart, waitLong, plan.summary())
		}
	}
	if err := prod.Close(); err != nil {
		t.Errorf("closing the producer: %v", err)
	}
	if failed > 0 {
		t.Errorf("%d of %d sends failed", failed, partitions*perPart)
	}
	produced := time.Since(producing)
	t.Logf("proxies: %s", plan.summary())

	// The cuts happened, including answers lost after the broker wrote
	// the batch, and each such batch's retry was answered with the
	// offset the batch was first written at.
	plan.mu.Lock()
	writtenUnacked, dedup, problems, undecoded := plan.writtenUnacked, plan.dedupAnswered, plan.problems, plan.undecoded
	drops := plan.modes[dropRequest] + plan.modes[dropAnswer] + plan.modes[cutAnswer]
	plan.mu.Unlock()
	if drops == 0 || writtenUnacked == 0 || dedup == 0 {
		t.Errorf("the proxies did not exercise the case: %d cuts, %d lost answers with written batches, %d retries of written batches answered",
			drops, writtenUnacked, dedup)
	}
	for _, p := range problems {
		t.Errorf("proxy: %s", p)
	}
	if undecoded > 0 {
		t.Errorf("%d Produce frames could not be decoded", undecoded)
	}
	if left := plan.unanswered(); len(left) > 0 {
		t.Errorf("%d batches written with their answer lost were never answered on a retry, e.g. %s", len(left), strings.Join(left[:min(len(left), 10)], "; "))
	}

	// Acknowledgements: sequence number = offset, for every send.
	for p := range acked {
		bad := 0
		for seq, off := range acked[p] {
			if off != int64(seq) {
				bad++
				if bad <= 10 {
					t.Errorf("p%d seq %d acknowledged at offset %d", p, seq, off)
				}
			}
		}
		if bad > 10 {
			t.Errorf("p%d: %d acknowledgements at the wrong offset", p, bad)
		}
	}

	// The log: read every partition to its end (through INTERNAL).
	ctx := testCtx(t, waitLong)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets: %v", err)
	}
	want := map[int32]int64{}
	for p := int32(0); p < partitions; p++ {
		o, ok := ends.Lookup(topic, p)
		if !ok || o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", topic, p, o.Err)
		}
		want[p] = o.Offset
	}
	got := consumeRange(t, c.BootstrapAddrs(), topic, want)
	dupTotal, gapTotal := 0, 0
	for p := int32(0); p < partitions; p++ {
		dups, gaps, disorder := checkIdemPartition(t, p, got[p][:want[p]], perPart)
		dupTotal += dups
		gapTotal += gaps
		if dups > 0 || gaps > 0 || disorder > 0 || want[p] != perPart {
			t.Errorf("p%d: %d records in the log (end offset %d), want %d: %d duplicated records, %d sequence numbers missing, %d out of order",
				p, len(got[p]), want[p], perPart, dups, gaps, disorder)
		}
	}
	t.Logf("%d records in %d partitions (%d brokers): %d duplicates, %d gaps; produced in %v, whole test %v",
		partitions*perPart, partitions, brokers, dupTotal, gapTotal, produced.Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
}

// checkIdemPartition checks that partition p's records, in offset order,
// are sequence numbers 0..n-1 each once at the offset equal to it, and
// counts the duplicated records, the missing sequence numbers and the
// records whose sequence number is not above the previous one.
func checkIdemPartition(t *testing.T, p int32, rs []*kgo.Record, n int) (dups, gaps, disorder int) {
	t.Helper()
	seen := map[int]int{}
	last := -1
	reported := 0
	report := func(format string, args ...any) {
		if reported < 10 {
			t.Errorf(format, args...)
		}
		reported++
	}
	for i, r := range rs {
		if r.Offset != int64(i) {
			report("p%d: record %d at offset %d", p, i, r.Offset)
		}
		var rp, seq int
		if _, err := fmt.Sscanf(string(r.Value), "idempotent-drop p%d seq %d", &rp, &seq); err != nil || rp != int(p) || string(r.Value) != idemValue(p, seq) {
			report("p%d@%d: unexpected value %.60q", p, r.Offset, r.Value)
			continue
		}
		seen[seq]++
		if seen[seq] > 1 {
			dups++
			report("p%d@%d: seq %d again", p, r.Offset, seq)
		}
		if seq <= last {
			disorder++
		}
		last = max(last, seq)
		if seq != int(r.Offset) && seen[seq] == 1 {
			report("p%d@%d: seq %d", p, r.Offset, seq)
		}
	}
	var missing []string
	for seq := 0; seq < n; seq++ {
		if seen[seq] == 0 {
			gaps++
			if len(missing) < 10 {
				missing = append(missing, strconv.Itoa(seq))
			}
		}
	}
	if gaps > 0 {
		t.Errorf("p%d: %d sequence numbers missing, e.g. %s", p, gaps, strings.Join(missing, ","))
	}
	return dups, gaps, disorder
}
