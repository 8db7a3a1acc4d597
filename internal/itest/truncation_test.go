package itest

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// Follower restart with a torn log tail and with a divergent tail written
// by a deposed leader: truncation to exactly Kafka's offset.

const recoveryCutMsg = "corruption found in segment; truncating after the last valid batch"

// TestTruncationTornTailRecovery: a follower killed with -9 whose active
// segment then gets a bad tail (a torn batch header, then a whole batch
// with a bad CRC) recovers by cutting the .log right after the last valid
// batch, as Kafka's log recovery does; it then fetches from there, rejoins
// the ISR, and ends with .log bytes identical to the leader's (the
// follower keeps the leader's offsets and epochs) and a sane offset index.
func TestTruncationTornTailRecovery(t *testing.T) {
	c := newCluster(t, 3, nil)
	ctrl := c.WaitForController()
	adm := newAdmin(t, c)
	const topic = "torn"
	interval := "256" // index entries every few batches
	createTopic(t, c, adm, topic, 1, 3, map[string]*string{"index.interval.bytes": &interval})
	st := waitState(t, c, topic, 0, "ISR of 3", func(s partitionState) bool { return len(s.ISR) == 3 })
	leader := c.BrokerByID(st.Leader)
	// The follower to kill is neither the leader nor the controller, so
	// neither moves.
	var follower *testcluster.Broker
	for _, b := range c.Brokers() {
		if b.ID() != st.Leader && b.ID() != ctrl {
			follower = b
		}
	}
	var replicas []*testcluster.Broker
	for _, b := range c.Brokers() {
		if b != leader {
			replicas = append(replicas, b)
		}
	}
	seeds := c.BootstrapAddrs()

	// Several batches, all on every replica (acks=all with an ISR of 3).
	var sent []sentRecord
	for round := 0; round < 4; round++ {
		sent = append(sent, truncProduce(t, seeds, topic, fmt.Sprintf("r%d", round), 8, kgo.AllISRAcks())...)
	}
	checkOffsetsFrom(t, "first records", sent, 0)
	waitSegmentsEqual(t, leader, topic, replicas...)

	cases := []struct {
		name string
		// tail is what is appended to the follower's segment, built from
		// its last batch with the base offset moved to the log end.
		tail func(last []byte) []byte
		// down is how many records the leader takes while the follower
		// is down. With none, the follower's .log must be exactly the
		// valid prefix after its restart until more records come.
		down int
	}{
		{"TornHeader", func(last []byte) []byte { return last[:30] }, 0},
		{"BadCRC", func(last []byte) []byte {
			last[len(last)-1] ^= 0xff // a byte covered by the CRC
			return last
		}, 5},
	}
	for _, tc := range cases {
		ok := t.Run(tc.name, func(t *testing.T) {
			follower.Kill9()
			path := firstSegmentPath(follower, topic)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			batches, err := scanSegmentBatches(data)
			if err != nil || len(batches) == 0 {
				t.Fatalf("%s after kill -9: %d batches, %v", path, len(batches), err)
			}
			lastB := batches[len(batches)-1]
			end := lastB.last + 1
			if end != int64(len(sent)) {
				t.Fatalf("the killed follower's log ends at %d, %d records were acknowledged", end, len(sent))
			}
			last := slices.Clone(data[lastB.pos : lastB.pos+lastB.size])
			binary.BigEndian.PutUint64(last, uint64(end))
			tail := tc.tail(last)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(tail); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			validSize := len(data)

			// Records the follower has to fetch after its restart.
			var down []sentRecord
			if tc.down > 0 {
				down = truncProduce(t, []string{leader.Addr()}, topic, tc.name+"-down", tc.down, kgo.LeaderAck())
				checkOffsetsFrom(t, "records while the follower is down", down, end)
				sent = append(sent, down...)
			}

			// The controller sees the follower die and takes it out of the
			// ISR, so coming back into it below is its own doing.
			waitState(t, c, topic, 0, "the killed follower out of the ISR", func(s partitionState) bool {
				return s.Leader == leader.ID() && !slices.Contains(s.ISR, follower.ID())
			})
			from := len(follower.Log())
			follower.Restart()

			// The recovery cut exactly the bytes appended, after the last
			// valid batch.
			eventually(t, waitLong, "the recovery's log line", func() error {
				var found []string
				for _, e := range truncLogEntries(logSince(follower, from), recoveryCutMsg) {
					if logField(e, "topic") != topic || logField(e, "partition") != "0" {
						continue
					}
					if logField(e, "segment") != "0" || logField(e, "truncatedBytes") != fmt.Sprint(len(tail)) || logField(e, "nextOffset") != fmt.Sprint(end) {
						return fmt.Errorf("recovery of %s-0 logged %v, want segment 0, truncatedBytes %d, nextOffset %d", topic, e, len(tail), end)
					}
					found = append(found, fmt.Sprint(e))
				}
				if len(found) != 1 {
					return fmt.Errorf("%d lines %q about %s-0 since the restart, want 1", len(found), recoveryCutMsg, topic)
				}
				return nil
			})

			waitState(t, c, topic, 0, "the restarted follower back in the ISR", func(s partitionState) bool {
				return s.Leader == leader.ID() && slices.Contains(s.ISR, follower.ID()) && len(s.ISR) == 3
			})
			if tc.down == 0 {
				// Nothing was written since the kill: the follower's .log
				// is the valid prefix, byte for byte.
				now, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if len(now) != validSize || string(now) != string(data) {
					t.Fatalf("%s after recovery: %d bytes, want the %d bytes before the tail was added", path, len(now), validSize)
				}
			}
			after := truncProduce(t, seeds, topic, tc.name+"-after", 6, kgo.AllISRAcks())
			checkOffsetsFrom(t, "records after the restart", after, end+int64(len(down)))
			sent = append(sent, after...)

			// Same batches at the same positions on every replica: the
			// valid prefix kept as it was, then the leader's bytes.
			waitSegmentsEqual(t, leader, topic, replicas...)
			data, err = os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) <= validSize {
				t.Fatalf("%s: %d bytes, the valid prefix had %d", path, len(data), validSize)
			}
			batches, err = scanSegmentBatches(data)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if got := batches[len(batches)-1].last + 1; got != int64(len(sent)) {
				t.Fatalf("%s ends at offset %d, want %d", path, got, len(sent))
			}
			if n := checkOffsetIndex(t, follower, topic); n == 0 {
				t.Errorf("the follower's offset index has no entries (index.interval.bytes %s, %d bytes of log)", interval, len(data))
			}
			recs, err := readPartitionDir(replicaDir(follower, topic))
			if err != nil {
				t.Fatal(err)
			}
			checkContains(t, "the follower's log", sent, recs)
			if len(recs) != len(sent) {
				t.Errorf("the follower's log holds %d records, %d were produced", len(recs), len(sent))
			}
		})
		if !ok {
			return // the next case starts from this one's state
		}
	}
	got := consumeRange(t, seeds, topic, map[int32]int64{0: int64(len(sent))})
	checkRecords(t, sent, got)
}

const divergenceMsg = "truncating to the leader's log after a diverging epoch"

// TestTruncationDivergentTail: leader A writes records (acks=1) that its
// follower B, frozen, never fetches; A dies, B (still in the ISR) is
// elected with a new epoch and takes new records at the same offsets.
// When A comes back it fetches with its last epoch, gets a diverging
// epoch from B and truncates to exactly the end of that epoch on B
// (Kafka's rule: not its high watermark, not its log end), then copies
// B's records. A's .log ends byte for byte equal to B's and the records
// only A had are gone.
func TestTruncationDivergentTail(t *testing.T) {
	c := newCluster(t, 3, map[string]string{
		// B stays in the ISR while it is frozen.
		"replica.lag.time.max.ms": "60000",
		// A restarts with a checkpointed high watermark below the
		// divergence point, so truncating to it would be seen.
		"replica.high.watermark.checkpoint.interval.ms": "3600000",
	})
	ctrl := c.WaitForController()
	var others []*testcluster.Broker
	for _, b := range c.Brokers() {
		if b.ID() != ctrl {
			others = append(others, b)
		}
	}
	a, b := others[0], others[1]
	// B is frozen for a moment: a longer session keeps its registration,
	// and long fetch polls make its one fetch in flight easy to reason
	// about (see below).
	b.SetProps(map[string]string{
		"zookeeper.session.timeout.ms": "30000",
		"replica.fetch.wait.max.ms":    "10000",
	})
	b.Restart()
	if now := c.WaitForController(); now != ctrl {
		t.Fatalf("controller moved from %d to %d", ctrl, now)
	}
	waitBrokersEverywhere(t, c)

	// "div" is the partition under test; "trig" only serves to complete
	// B's pending fetch. Both are led by A and followed by B, on the same
	// fetcher; the controller holds no replica.
	const topic, trig = "div", "trig"
	for _, tp := range []string{topic, trig} {
		createAssigned(t, c, tp, []int32{a.ID(), b.ID()}, nil)
	}
	states := map[string]partitionState{}
	for _, tp := range []string{topic, trig} {
		states[tp] = waitState(t, c, tp, 0, tp+" led by A with both in the ISR", func(s partitionState) bool {
			return s.Leader == a.ID() && len(s.ISR) == 2
		})
	}
	e := states[topic].LeaderEpoch

	// Every record goes to A through one client, which then knows both
	// partitions' leader and never has to ask the frozen B for metadata.
	toA := newClient(t, []string{a.Addr()}, kgo.RequiredAcks(kgo.LeaderAck()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	checkOffsetsFrom(t, "first trig record", truncProduceWith(t, toA, trig, "warm", 1), 0)
	before := truncProduceWith(t, toA, topic, "before", 10)
	checkOffsetsFrom(t, "records in epoch e", before, 0)
	// A's high watermarks reach 1 and 10 once B has fetched at those
	// offsets; B's last fetch names both partitions (a partition B starts
	// to follow while a fetch waits joins only the next one) and now waits
	// at A (replica.fetch.wait.max.ms 10 s) as the only one B has in flight.
	eventually(t, waitLong, "B caught up on both partitions", func() error {
		for tp, want := range map[string]int64{topic: 10, trig: 1} {
			hw, err := highWatermarkOn(a.Addr(), tp)
			if err != nil {
				return err
			}
			if hw != want {
				return fmt.Errorf("%s: high watermark %d on A, want %d", tp, hw, want)
			}
		}
		return nil
	})
	aPort, bPID := addrPort(t, a.Addr()), b.Process().PID()
	if n, _, err := socketsTo(bPID, aPort); err != nil || n == 0 {
		t.Fatalf("B has %d connections to A's port %d (%v)", n, aPort, err)
	}

	b.Pause()
	paused := true
	defer func() {
		if paused {
			b.Resume()
		}
	}()
	pausedAt := time.Now()
	// A record on "trig" completes B's waiting fetch; A reads "div" for
	// that answer before sending it. Once its bytes sit unread in B's
	// socket, B has no fetch left at A, so nothing written to "div" from
	// now on can reach B.
	truncProduceWith(t, toA, trig, "trigger", 1)
	// (Well within B's session: a failure here must not also expire it.)
	eventually(t, 20*time.Second, "A's answer to B's pending fetch", func() error {
		n, unread, err := socketsTo(bPID, aPort)
		if err != nil {
			return err
		}
		if unread == 0 {
			return fmt.Errorf("%d connections from B to A, nothing unread", n)
		}
		t.Logf("%d unread bytes on B's %d connections to A", unread, n)
		return nil
	})
	divergent := truncProduceWith(t, toA, topic, "divergent", 5)
	checkOffsetsFrom(t, "records only A has", divergent, 10)
	a.Kill9()
	b.Resume()
	paused = false
	t.Logf("B was frozen for %v", time.Since(pausedAt))

	// A's log after the crash: 15 records, 10..14 only there.
	aRecs, err := readPartitionDir(replicaDir(a, topic))
	if err != nil {
		t.Fatal(err)
	}
	if len(aRecs) != 15 || string(aRecs[14].Value) != "divergent-4" {
		t.Fatalf("A's log after kill -9 holds %d records, want 15 ending with divergent-4", len(aRecs))
	}
	if hw := checkpointedHW(t, a, topic); hw >= 10 {
		t.Fatalf("A's checkpointed high watermark of %s-0 is %d: the test needs it below 10", topic, hw)
	}

	// The controller sees A's session end and elects B, with a new epoch.
	st1 := waitState(t, c, topic, 0, "B elected after A's death", func(s partitionState) bool {
		return s.Leader == b.ID() && s.LeaderEpoch > e
	})
	if !slices.Equal(st1.ISR, []int32{b.ID()}) {
		t.Fatalf("state after the election %+v, want ISR [%d]", st1, b.ID())
	}
	eventually(t, waitLong, "B leading div", func() error {
		l, err := leaderOf(b.Addr(), topic, 0)
		if err != nil {
			return err
		}
		if l != b.ID() {
			return fmt.Errorf("B says the leader is %d", l)
		}
		return nil
	})
	// B never saw the divergent records: epoch e ends at 10 on B.
	ans, err := ofleAsk(b.Addr(), 4, -1, ofleQuery{topic: topic, current: st1.LeaderEpoch, requested: e})
	if err != nil {
		t.Fatal(err)
	}
	if ans[0] != ofleOK(e, 10) {
		t.Fatalf("OffsetForLeaderEpoch(%d) on B = %v, want (epoch %d, end 10)", e, ans[0], e)
	}
	after := truncProduce(t, []string{b.Addr()}, topic, "after", 3, kgo.AllISRAcks())
	checkOffsetsFrom(t, "records in the new epoch", after, 10)

	from := len(a.Log())
	a.Restart()
	st2 := waitState(t, c, topic, 0, "A back in the ISR", func(s partitionState) bool {
		return s.Leader == b.ID() && slices.Contains(s.ISR, a.ID()) && len(s.ISR) == 2
	})
	if st2.LeaderEpoch != st1.LeaderEpoch {
		t.Errorf("leader epoch %d after A's return, %d at the election", st2.LeaderEpoch, st1.LeaderEpoch)
	}
	waitSegmentsEqual(t, b, topic, a)

	// A truncated once, to exactly 10: the end of epoch e on B.
	log := logSince(a, from)
	var divs []map[string]any
	for _, en := range truncLogEntries(log, divergenceMsg) {
		if logField(en, "partition") == topic+"-0" {
			divs = append(divs, en)
		}
	}
	if len(divs) != 1 {
		t.Fatalf("A logged %d lines %q for %s-0 since its restart, want 1: %v", len(divs), divergenceMsg, topic, divs)
	}
	if d := divs[0]; logField(d, "epoch") != fmt.Sprint(e) || logField(d, "leaderEnd") != "10" || logField(d, "truncateTo") != "10" {
		t.Errorf("A's divergence line %v, want epoch %d, leaderEnd 10, truncateTo 10", d, e)
	}
	var cuts []string
	for _, en := range truncLogEntries(log, "truncating log") {
		if logField(en, "topic") == topic && logField(en, "partition") == "0" {
			cuts = append(cuts, logField(en, "target")+"/"+logField(en, "logEndOffset"))
		}
	}
	if !slices.Equal(cuts, []string{"10/15"}) {
		t.Errorf("A's log truncations of %s-0 (target/logEndOffset): %v, want [10/15]", topic, cuts)
	}

	// Same leader epoch checkpoint on both.
	eventually(t, waitLong, "equal leader-epoch-checkpoint files", func() error {
		wantCk, err := os.ReadFile(replicaDir(b, topic) + "/leader-epoch-checkpoint")
		if err != nil {
			return err
		}
		gotCk, err := os.ReadFile(replicaDir(a, topic) + "/leader-epoch-checkpoint")
		if err != nil {
			return err
		}
		if string(gotCk) != string(wantCk) {
			return fmt.Errorf("A: %q, B: %q", gotCk, wantCk)
		}
		return nil
	})

	// Readers see B's 13 records; the divergent ones are gone everywhere.
	want := append(slices.Clone(before), after...)
	got := consumeRange(t, c.BootstrapAddrs(), topic, map[int32]int64{0: 13})
	checkRecords(t, want, got)
	for _, br := range []*testcluster.Broker{a, b} {
		recs, err := readPartitionDir(replicaDir(br, topic))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 13 {
			t.Errorf("broker %d's log holds %d records, want 13", br.ID(), len(recs))
		}
		checkContains(t, fmt.Sprintf("broker %d's log", br.ID()), want, recs)
		for _, r := range recs {
			if strings.HasPrefix(string(r.Value), "divergent") {
				t.Errorf("broker %d still holds %q at offset %d", br.ID(), r.Value, r.Offset)
			}
		}
	}
}
