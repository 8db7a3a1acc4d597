package itest

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rd decodes the classic encoding of __consumer_offsets keys and values
// by hand (kafka-zk-spec.md §7.2), independently of the broker's writer.
type rd struct {
	b   []byte
	err error
}

func (r *rd) take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = fmt.Errorf("truncated: want %d of %d bytes", n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *rd) i16() int16 {
	if v := r.take(2); v != nil {
		return int16(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (r *rd) i32() int32 {
	if v := r.take(4); v != nil {
		return int32(binary.BigEndian.Uint32(v))
	}
	return 0
}

func (r *rd) i64() int64 {
	if v := r.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (r *rd) str() string { return string(r.take(int(r.i16()))) }

func (r *rd) nstr() *string {
	n := r.i16()
	if n == -1 {
		return nil
	}
	s := string(r.take(int(n)))
	return &s
}

func (r *rd) bytes() []byte { return r.take(int(r.i32())) }

type storedOffset struct {
	group, topic      string
	partition         int32
	offset            int64
	epoch             int32
	metadata          string
	commitTime        int64
	tombstone         bool
	keyVersion, valVs int16
}

type storedMember struct {
	id, clientID, host       string
	instance                 *string
	rebalance, session       int32
	subscription, assignment []byte
}

type storedGroup struct {
	group, protocolType string
	generation          int32
	protocol, leader    *string
	stateTime           int64
	members             []storedMember
	valueVersion        int16
}

// decodeOffsetsRecords splits the records of a __consumer_offsets
// partition into offset commits and group metadata.
func decodeOffsetsRecords(t *testing.T, recs []*kgo.Record) ([]storedOffset, []storedGroup) {
	t.Helper()
	var offs []storedOffset
	var groups []storedGroup
	for _, rec := range recs {
		k := &rd{b: rec.Key}
		switch kv := k.i16(); kv {
		case 0, 1:
			o := storedOffset{keyVersion: kv, group: k.str(), topic: k.str(), partition: k.i32(), tombstone: rec.Value == nil}
			if !o.tombstone {
				v := &rd{b: rec.Value}
				o.valVs = v.i16()
				if o.valVs != 3 {
					t.Fatalf("offset value version %d, want 3", o.valVs)
				}
				o.offset, o.epoch, o.metadata, o.commitTime = v.i64(), v.i32(), v.str(), v.i64()
				if v.err != nil || len(v.b) != 0 {
					t.Fatalf("offset value: %v, %d bytes left", v.err, len(v.b))
				}
			}
			if k.err != nil || len(k.b) != 0 {
				t.Fatalf("offset key: %v, %d bytes left", k.err, len(k.b))
			}
			offs = append(offs, o)
		case 2:
			g := storedGroup{group: k.str()}
			if rec.Value != nil {
				v := &rd{b: rec.Value}
				g.valueVersion = v.i16()
				if g.valueVersion != 3 {
					t.Fatalf("group value version %d, want 3", g.valueVersion)
				}
				g.protocolType, g.generation, g.protocol, g.leader, g.stateTime = v.str(), v.i32(), v.nstr(), v.nstr(), v.i64()
				for n := v.i32(); n > 0 && v.err == nil; n-- {
					m := storedMember{id: v.str(), instance: v.nstr(), clientID: v.str(), host: v.str(),
						rebalance: v.i32(), session: v.i32(), subscription: v.bytes(), assignment: v.bytes()}
					g.members = append(g.members, m)
				}
				if v.err != nil || len(v.b) != 0 {
					t.Fatalf("group value: %v, %d bytes left", v.err, len(v.b))
				}
			}
			groups = append(groups, g)
		default:
			t.Fatalf("unexpected key version %d", kv)
		}
	}
	return offs, groups
}

// checkStoredGroupRecords reads the coordinator's __consumer_offsets
// partition of a group from its segment files and checks, field by field,
// what a kgo member that committed ends (per partition of topic) wrote.
func checkStoredGroupRecords(t *testing.T, logDir, groupID, topic string, ends map[int32]int64, started time.Time) {
	t.Helper()
	dir := filepath.Join(logDir, fmt.Sprintf("__consumer_offsets-%d", javaPartition(groupID, 50)))
	recs, err := readPartitionDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	offs, groups := decodeOffsetsRecords(t, recs)
	checkCommitBatchHeaders(t, dir)
	last := map[int32]storedOffset{}
	for _, o := range offs {
		if o.group != groupID || o.topic != topic {
			continue
		}
		if o.keyVersion != 1 || o.tombstone {
			t.Errorf("offset record %+v: key version %d, tombstone %v", o, o.keyVersion, o.tombstone)
		}
		if o.commitTime < started.UnixMilli() || o.commitTime > time.Now().UnixMilli() {
			t.Errorf("commit timestamp %d outside the test", o.commitTime)
		}
		last[o.partition] = o
	}
	for p, end := range ends {
		if o, ok := last[p]; !ok || o.offset != end || o.epoch < 0 {
			t.Errorf("partition %d: last stored commit %+v, want offset %d with a leader epoch", p, o, end)
		}
	}
	var withMember *storedGroup
	for i, g := range groups {
		if g.group == groupID && len(g.members) == 1 {
			withMember = &groups[i]
		}
	}
	if withMember == nil {
		t.Fatalf("no group metadata record with one member among %d", len(groups))
	}
	m := withMember.members[0]
	if withMember.protocolType != "consumer" || withMember.protocol == nil || *withMember.protocol != "cooperative-sticky" ||
		withMember.leader == nil || *withMember.leader != m.id || withMember.generation < 1 || withMember.stateTime < started.UnixMilli() {
		t.Errorf("group record: %+v", withMember)
	}
	if m.clientID != "kbroker-itest" || m.host != "/127.0.0.1" || m.session != 45000 || m.rebalance != 60000 ||
		len(m.subscription) == 0 || len(m.assignment) == 0 || m.instance != nil {
		t.Errorf("member record: %+v", m)
	}
	// The member left: the group's last record is the Empty group, no
	// protocol, no leader, no members.
	fin := groups[len(groups)-1]
	if fin.group != groupID || len(fin.members) != 0 || fin.protocol != nil || fin.leader != nil || fin.generation <= withMember.generation {
		t.Errorf("last group record: %+v", fin)
	}
}

// checkCommitBatchHeaders checks the batch headers of a __consumer_offsets
// partition as Kafka writes them: no producer id or epoch, base sequence
// 0 for OffsetCommit batches (storeOffsets) and -1 for group metadata.
func checkCommitBatchHeaders(t *testing.T, dir string) {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("%s: no segments (%v)", dir, err)
	}
	seen := map[int16]int{}
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for pos := 0; pos+61 <= len(data); {
			size := int(int32(binary.BigEndian.Uint32(data[pos+8:]))) + 12
			if size < 61 || pos+size > len(data) {
				break
			}
			var b kmsg.RecordBatch
			if err := b.ReadFrom(data[pos : pos+size]); err != nil {
				t.Fatalf("%s at %d: %v", path, pos, err)
			}
			pos += size
			if b.Attributes&0x27 != 0 || b.NumRecords == 0 { // control or compressed: not ours
				continue
			}
			var r kmsg.Record
			length, n := binary.Varint(b.Records)
			if n <= 0 || r.ReadFrom(b.Records[:n+int(length)]) != nil || len(r.Key) < 2 || r.Value == nil {
				continue
			}
			kv := int16(binary.BigEndian.Uint16(r.Key))
			want := int32(-1)
			if kv <= 1 {
				want = 0
			}
			if b.ProducerID != -1 || b.ProducerEpoch != -1 || b.FirstSequence != want {
				t.Errorf("batch at offset %d (key version %d): producer %d epoch %d base sequence %d; want -1, -1, %d",
					b.FirstOffset, kv, b.ProducerID, b.ProducerEpoch, b.FirstSequence, want)
			}
			seen[kv]++
		}
	}
	if seen[1] == 0 || seen[2] == 0 {
		t.Errorf("batches by key version %v: want offset commits (1) and group metadata (2)", seen)
	}
}
