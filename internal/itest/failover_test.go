package itest

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// produceTo writes n records to each listed partition with acks=all and
// returns them as acknowledged (offsets filled in).
func produceTo(t testing.TB, seeds []string, topic, tag string, partitions []int32, n int) []sentRecord {
	t.Helper()
	cl := newClient(t, seeds, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	defer cl.Close()
	var rs []*kgo.Record
	base := time.Now().Add(-time.Hour).UnixMilli()
	for _, p := range partitions {
		for i := 0; i < n; i++ {
			rs = append(rs, &kgo.Record{
				Topic: topic, Partition: p,
				Key:       []byte(fmt.Sprintf("%s-p%d-%d", tag, p, i)),
				Value:     []byte(fmt.Sprintf("%s value %d of partition %d", tag, i, p)),
				Headers:   []kgo.RecordHeader{{Key: "tag", Value: []byte(tag)}},
				Timestamp: time.UnixMilli(base + int64(i)),
			})
		}
	}
	ctx := testCtx(t, 2*waitLong)
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce %s to %s %v: %v", tag, topic, partitions, err)
	}
	return sentFromKgo(rs)
}

func onPartition(sent []sentRecord, p int32) []sentRecord {
	var out []sentRecord
	for _, s := range sent {
		if s.Partition == p {
			out = append(out, s)
		}
	}
	return out
}

// checkContains checks that every sent record of one partition is in got
// (records decoded from a log directory), identical.
func checkContains(t testing.TB, what string, sent []sentRecord, got []*kgo.Record) {
	t.Helper()
	byOffset := map[int64]*kgo.Record{}
	for _, r := range got {
		byOffset[r.Offset] = r
	}
	for _, s := range sent {
		r := byOffset[s.Offset]
		if r == nil {
			t.Errorf("%s: acknowledged record missing: %v", what, s)
			continue
		}
		r.Partition = s.Partition
		if err := sameRecord(s, r); err != nil {
			t.Errorf("%s: %v: %v", what, s, err)
		}
	}
}

func TestControllerFailover(t *testing.T) {
	started := time.Now()
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()

	// Registrations without broker.rack have no "rack" key.
	for _, b := range c.Brokers() {
		checkRegistration(t, c, b, started)
	}

	const r3, r1 = "fo-r3", "fo-r1"
	createTopic(t, c, adm, r3, 6, 3, nil)
	createTopic(t, c, adm, r1, 3, 1, nil)
	all6 := []int32{0, 1, 2, 3, 4, 5}
	all3 := []int32{0, 1, 2}
	before3 := produceTo(t, seeds, r3, "before", all6, 40)
	before1 := produceTo(t, seeds, r1, "before", all3, 25)
	checkDenseOffsets(t, before3)
	checkDenseOffsets(t, before1)

	ctrl := c.WaitForController()
	epochBefore, _, err := c.ControllerEpoch()
	if err != nil {
		t.Fatal(err)
	}
	statesBefore := map[int32]zkPartitionStateJSON{}
	for _, p := range all6 {
		statesBefore[p] = zkPartitionState(t, c, r3, p)
	}
	var ctrlR1 []int32 // fo-r1 partitions whose only replica is the controller
	var liveR1 []int32
	for p, replicas := range zkAssignment(t, c, r1) {
		if replicas[0] == ctrl {
			ctrlR1 = append(ctrlR1, p)
		} else {
			liveR1 = append(liveR1, p)
		}
	}
	slices.Sort(liveR1)
	if len(ctrlR1) != 1 || len(liveR1) != 2 {
		t.Fatalf("fo-r1 assignment %v: want one partition per broker", zkAssignment(t, c, r1))
	}
	var survivors []int32
	for _, b := range c.Brokers() {
		if b.ID() != ctrl {
			survivors = append(survivors, b.ID())
		}
	}

	// kill -9 the controller.
	victim := c.BrokerByID(ctrl)
	_, oldReg, err := c.ZK().Get(fmt.Sprintf("/brokers/ids/%d", ctrl))
	if err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	victim.Kill9()
	newCtrl := c.WaitForNewController(ctrl)
	t.Logf("controller %d killed; broker %d took over after %v (zookeeper.session.timeout.ms=%d)",
		ctrl, newCtrl, time.Since(killedAt).Round(time.Millisecond), testcluster.DefaultSessionTimeoutMs)
	c.WaitForRegistered(survivors...)

	t.Run("NewController", func(t *testing.T) {
		epoch, version, err := c.ControllerEpoch()
		if err != nil {
			t.Fatal(err)
		}
		if epoch <= epochBefore || version != epoch {
			t.Errorf("/controller_epoch %d (version %d) after failover; it was %d", epoch, version, epochBefore)
		}
		data, st, err := c.ZK().Get("/controller")
		if err != nil {
			t.Fatal(err)
		}
		ts := timestampOf(t, "/controller", data, killedAt)
		checkZnode(t, c, "/controller", fmt.Sprintf(specController, newCtrl, ts), true)
		_, reg, err := c.ZK().Get(fmt.Sprintf("/brokers/ids/%d", newCtrl))
		if err != nil || reg.EphemeralOwner != st.EphemeralOwner {
			t.Errorf("/controller's session %#x is not broker %d's (%v)", st.EphemeralOwner, newCtrl, err)
		}
	})

	// The new controller moves leadership off the dead broker and takes it
	// out of every ISR; the partition that lived only there goes offline.
	t.Run("PartitionStates", func(t *testing.T) {
		eventually(t, waitLong, "partition states without the dead broker", func() error {
			for _, p := range all6 {
				st := zkPartitionState(t, c, r3, p)
				if st.Leader == ctrl || slices.Contains(st.ISR, ctrl) {
					return fmt.Errorf("%s/%d: %+v", r3, p, st)
				}
			}
			st := zkPartitionState(t, c, r1, ctrlR1[0])
			if st.Leader != -1 {
				return fmt.Errorf("%s/%d: %+v", r1, ctrlR1[0], st)
			}
			return nil
		})
		for _, p := range all6 {
			old, now := statesBefore[p], zkPartitionState(t, c, r3, p)
			if now.LeaderEpoch <= old.LeaderEpoch && old.Leader == ctrl {
				t.Errorf("%s/%d: leader epoch %d after a leader change (was %d)", r3, p, now.LeaderEpoch, old.LeaderEpoch)
			}
			if old.Leader == ctrl && !slices.Contains(old.ISR, now.Leader) {
				t.Errorf("%s/%d: new leader %d was not in the ISR %v", r3, p, now.Leader, old.ISR)
			}
			if old.Leader != ctrl && now.Leader != old.Leader {
				t.Errorf("%s/%d: leader moved from live broker %d to %d", r3, p, old.Leader, now.Leader)
			}
			if want := slices.DeleteFunc(slices.Clone(old.ISR), func(b int32) bool { return b == ctrl }); !slices.Equal(now.ISR, want) {
				t.Errorf("%s/%d: ISR %v, want %v", r3, p, now.ISR, want)
			}
		}
		// Kafka keeps the last ISR member of a partition that has no live
		// replica: leader -1, isr [dead broker].
		if st := zkPartitionState(t, c, r1, ctrlR1[0]); !slices.Equal(st.ISR, []int32{ctrl}) {
			t.Errorf("%s/%d: %+v, want leader -1 isr [%d]", r1, ctrlR1[0], st, ctrl)
		}
		// Survivors' metadata agrees; the dead broker is an offline
		// replica; the orphaned partition has no leader.
		for _, id := range survivors {
			b := c.BrokerByID(id)
			eventually(t, waitLong, fmt.Sprintf("broker %d metadata after failover", id), func() error {
				resp, err := oneRequest(b.Addr(), metadataRequest(12))
				if err != nil {
					return err
				}
				m := resp.(*kmsg.MetadataResponse)
				if m.ControllerID != newCtrl {
					return fmt.Errorf("controller %d", m.ControllerID)
				}
				if len(m.Brokers) != 2 {
					return fmt.Errorf("%d brokers listed", len(m.Brokers))
				}
				for _, mt := range m.Topics {
					for _, p := range mt.Partitions {
						name := *mt.Topic
						st := zkPartitionState(t, c, name, p.Partition)
						wantErr, wantLeader := int16(0), st.Leader
						if st.Leader == -1 {
							wantErr = 5 // LEADER_NOT_AVAILABLE
						}
						replicas := zkAssignment(t, c, name)[p.Partition]
						wantOffline := []int32{}
						if slices.Contains(replicas, ctrl) {
							wantOffline = []int32{ctrl}
						}
						if p.Leader != wantLeader || p.ErrorCode != wantErr || p.LeaderEpoch != st.LeaderEpoch ||
							!slices.Equal(p.Replicas, replicas) || !slices.Equal(p.ISR, st.ISR) || !slices.Equal(p.OfflineReplicas, wantOffline) {
							return fmt.Errorf("%s/%d: leader %d epoch %d replicas %v isr %v offline %v error %d; ZooKeeper: replicas %v %+v",
								name, p.Partition, p.Leader, p.LeaderEpoch, p.Replicas, p.ISR, p.OfflineReplicas, p.ErrorCode, replicas, st)
						}
					}
				}
				return nil
			})
		}
	})

	// The dead broker's files hold everything acknowledged before the kill
	// (it was in every ISR): kill -9 loses nothing written.
	t.Run("KilledBrokerFiles", func(t *testing.T) {
		for _, p := range all6 {
			got, err := readPartitionDir(filepath.Join(victim.LogDir(), fmt.Sprintf("%s-%d", r3, p)))
			if err != nil {
				t.Fatal(err)
			}
			checkContains(t, fmt.Sprintf("dead broker's %s-%d", r3, p), onPartition(before3, p), got)
		}
		p := ctrlR1[0]
		got, err := readPartitionDir(filepath.Join(victim.LogDir(), fmt.Sprintf("%s-%d", r1, p)))
		if err != nil {
			t.Fatal(err)
		}
		checkContains(t, fmt.Sprintf("dead broker's %s-%d", r1, p), onPartition(before1, p), got)
	})

	var after3, after1 []sentRecord
	t.Run("WorkAfterFailover", func(t *testing.T) {
		// Topic creation goes to the new controller; only live brokers
		// get replicas.
		createTopic(t, c, adm, "fo-after", 4, 2, nil)
		for p, replicas := range zkAssignment(t, c, "fo-after") {
			if slices.Contains(replicas, ctrl) {
				t.Errorf("fo-after/%d assigned to dead broker %d: %v", p, ctrl, replicas)
			}
		}
		afterNew := produceTo(t, seeds, "fo-after", "new", []int32{0, 1, 2, 3}, 10)
		checkRecords(t, afterNew, consumeRange(t, seeds, "fo-after", countByPartition(afterNew)))

		// Produce with acks=all to every partition that has a leader: the
		// ISR no longer waits for the dead broker.
		after3 = produceTo(t, seeds, r3, "after", all6, 20)
		after1 = produceTo(t, seeds, r1, "after", liveR1, 15)
		// Nothing acknowledged is lost, nothing is duplicated.
		all3r := append(slices.Clone(before3), after3...)
		checkDenseOffsets(t, all3r)
		checkRecords(t, all3r, consumeRange(t, seeds, r3, countByPartition(all3r)))
		var all1r []sentRecord
		for _, s := range append(slices.Clone(before1), after1...) {
			if s.Partition != ctrlR1[0] {
				all1r = append(all1r, s)
			}
		}
		checkRecords(t, all1r, consumeRange(t, seeds, r1, countByPartition(all1r)))
	})

	// Restart the killed broker: it registers again (new session, new
	// broker epoch) and, as the only replica, leads its partition again
	// with every acknowledged record.
	restartedAt := time.Now()
	victim.Restart()
	t.Run("Restarted", func(t *testing.T) {
		st := checkRegistration(t, c, victim, restartedAt)
		if st.Czxid <= oldReg.Czxid {
			t.Errorf("re-registration has czxid (broker epoch) %d, the killed run had %d", st.Czxid, oldReg.Czxid)
		}
		if id, ok, _ := c.Controller(); !ok || id != newCtrl {
			t.Errorf("controller is %d (present %v) after the restart, want %d still", id, ok, newCtrl)
		}
		p := ctrlR1[0]
		for _, b := range c.Brokers() {
			eventually(t, waitLong, fmt.Sprintf("broker %d sees %s/%d led by %d", b.ID(), r1, p, ctrl), func() error {
				l, err := leaderOf(b.Addr(), r1, p)
				if err != nil {
					return err
				}
				if l != ctrl {
					return fmt.Errorf("leader %d", l)
				}
				return nil
			})
		}
		// Everything acknowledged before the kill, read from the
		// restarted broker as leader.
		sent := onPartition(before1, p)
		checkRecords(t, sent, consumeRange(t, []string{victim.Addr()}, r1, map[int32]int64{p: int64(len(sent))}))
		// And it takes new writes.
		more := produceTo(t, seeds, r1, "restarted", []int32{p}, 5)
		for i := range more {
			if more[i].Offset != int64(len(sent)+i) {
				t.Errorf("record %d after restart at offset %d, want %d", i, more[i].Offset, len(sent)+i)
			}
		}
		// Recovery kept the acknowledged records of the replicated
		// topic in the restarted broker's files.
		for _, p := range all6 {
			got, err := readPartitionDir(filepath.Join(victim.LogDir(), fmt.Sprintf("%s-%d", r3, p)))
			if err != nil {
				t.Fatal(err)
			}
			checkContains(t, fmt.Sprintf("restarted broker's %s-%d", r3, p), onPartition(before3, p), got)
		}
	})

	// As a follower it fetches what it missed while it was down.
	t.Run("RestartedFollowerCatchesUp", func(t *testing.T) {
		for _, p := range all6 {
			want := onPartition(append(slices.Clone(before3), after3...), p)
			dir := filepath.Join(victim.LogDir(), fmt.Sprintf("%s-%d", r3, p))
			eventually(t, waitLong, fmt.Sprintf("restarted broker's copy of %s-%d", r3, p), func() error {
				got, err := readPartitionDir(dir)
				if err != nil {
					return err
				}
				if len(got) < len(want) {
					return fmt.Errorf("%d of %d records", len(got), len(want))
				}
				return nil
			})
			got, err := readPartitionDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			checkContains(t, fmt.Sprintf("restarted broker's %s-%d", r3, p), want, got)
		}
	})
}
