package group

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// be builds expected bytes field by field from the schemas of
// kafka-zk-spec.md §7.2, independently of the encoder under test.
type be struct{ b []byte }

func (w *be) i16(v int16) *be { w.b = binary.BigEndian.AppendUint16(w.b, uint16(v)); return w }
func (w *be) i32(v int32) *be { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)); return w }
func (w *be) i64(v int64) *be { w.b = binary.BigEndian.AppendUint64(w.b, uint64(v)); return w }
func (w *be) str(s string) *be {
	w.i16(int16(len(s)))
	w.b = append(w.b, s...)
	return w
}
func (w *be) nstr(s *string) *be {
	if s == nil {
		return w.i16(-1)
	}
	return w.str(*s)
}
func (w *be) bytes(p []byte) *be {
	w.i32(int32(len(p)))
	w.b = append(w.b, p...)
	return w
}

func ptr(s string) *string { return &s }

func TestOffsetRecordBytes(t *testing.T) {
	key := OffsetKeyBytes("billing", "orders", 7)
	want := (&be{}).i16(1).str("billing").str("orders").i32(7).b
	if !bytes.Equal(key, want) {
		t.Fatalf("offset key\n got %x\nwant %x", key, want)
	}

	o := CommittedOffset{Offset: 1234567, LeaderEpoch: 5, Metadata: "m", CommitTimestamp: 1_700_000_000_123, ExpireTimestamp: NoExpireTimestamp}
	val := OffsetValueBytes(o)
	want = (&be{}).i16(3).i64(1234567).i32(5).str("m").i64(1_700_000_000_123).b
	if !bytes.Equal(val, want) {
		t.Fatalf("offset value v3\n got %x\nwant %x", val, want)
	}
	r, err := ParseRecord(key, val)
	if err != nil || r.Kind != OffsetRecord || r.GroupID != "billing" || r.Topic != "orders" || r.Partition != 7 || r.Offset == nil || *r.Offset != o {
		t.Fatalf("parsed %+v (%v), offset %+v", r, err, r.Offset)
	}

	// An explicit retention: version 1, no leader epoch, expire timestamp.
	o.ExpireTimestamp = 1_700_086_400_123
	val = OffsetValueBytes(o)
	want = (&be{}).i16(1).i64(1234567).str("m").i64(1_700_000_000_123).i64(1_700_086_400_123).b
	if !bytes.Equal(val, want) {
		t.Fatalf("offset value v1\n got %x\nwant %x", val, want)
	}
	r, err = ParseRecord(key, val)
	// What the coordinator keeps in memory is what the record reads back.
	if err == nil && *r.Offset != o.asStored() {
		t.Fatalf("asStored %+v, the record reads back %+v", o.asStored(), *r.Offset)
	}
	o.LeaderEpoch = -1
	if err != nil || *r.Offset != o {
		t.Fatalf("parsed v1 %+v (%v)", r.Offset, err)
	}
}

func TestGroupRecordBytes(t *testing.T) {
	key := GroupKeyBytes("billing")
	if want := (&be{}).i16(2).str("billing").b; !bytes.Equal(key, want) {
		t.Fatalf("group key\n got %x\nwant %x", key, want)
	}
	g := kmsg.NewGroupMetadataValue()
	g.ProtocolType, g.Generation, g.Protocol, g.Leader = "consumer", 4, ptr("range"), ptr("m-1")
	g.CurrentStateTimestamp = 1_700_000_000_999
	g.Members = []kmsg.GroupMetadataValueMember{
		{MemberID: "m-1", InstanceID: ptr("static-1"), ClientID: "c1", ClientHost: "/10.0.0.1",
			RebalanceTimeoutMillis: 300000, SessionTimeoutMillis: 45000, Subscription: []byte{0, 1, 2}, Assignment: []byte{9}},
		{MemberID: "m-2", ClientID: "c2", ClientHost: "/10.0.0.2",
			RebalanceTimeoutMillis: 60000, SessionTimeoutMillis: 10000, Subscription: []byte{}, Assignment: []byte{}},
	}
	val := GroupValueBytes(g)
	w := (&be{}).i16(3).str("consumer").i32(4).nstr(ptr("range")).nstr(ptr("m-1")).i64(1_700_000_000_999).i32(2)
	w.str("m-1").nstr(ptr("static-1")).str("c1").str("/10.0.0.1").i32(300000).i32(45000).bytes([]byte{0, 1, 2}).bytes([]byte{9})
	w.str("m-2").nstr(nil).str("c2").str("/10.0.0.2").i32(60000).i32(10000).bytes(nil).bytes(nil)
	if !bytes.Equal(val, w.b) {
		t.Fatalf("group value v3\n got %x\nwant %x", val, w.b)
	}
	r, err := ParseRecord(key, val)
	if err != nil || r.Kind != GroupRecord || r.GroupID != "billing" || r.Group == nil {
		t.Fatalf("parsed %+v (%v)", r, err)
	}
	pg := r.Group
	if pg.ProtocolType != "consumer" || pg.Generation != 4 || *pg.Protocol != "range" || *pg.Leader != "m-1" ||
		pg.CurrentStateTimestamp != 1_700_000_000_999 || len(pg.Members) != 2 ||
		*pg.Members[0].InstanceID != "static-1" || pg.Members[1].InstanceID != nil ||
		pg.Members[0].SessionTimeoutMillis != 45000 || !bytes.Equal(pg.Members[0].Subscription, []byte{0, 1, 2}) {
		t.Fatalf("parsed group %+v", pg)
	}
}

// Records written by older brokers still load.
func TestParseOlderVersions(t *testing.T) {
	key0 := (&be{}).i16(0).str("g").str("t").i32(0).b
	val0 := (&be{}).i16(0).i64(42).str("").i64(1000).b
	r, err := ParseRecord(key0, val0)
	want := CommittedOffset{Offset: 42, LeaderEpoch: -1, CommitTimestamp: 1000, ExpireTimestamp: NoExpireTimestamp}
	if err != nil || r.Kind != OffsetRecord || *r.Offset != want {
		t.Fatalf("v0/v0: %+v %+v (%v)", r, r.Offset, err)
	}
	val2 := (&be{}).i16(2).i64(43).str("x").i64(2000).b
	r, err = ParseRecord(key0, val2)
	want = CommittedOffset{Offset: 43, LeaderEpoch: -1, Metadata: "x", CommitTimestamp: 2000, ExpireTimestamp: NoExpireTimestamp}
	if err != nil || *r.Offset != want {
		t.Fatalf("v2: %+v (%v)", r.Offset, err)
	}
	// Group metadata v0: no rebalance timeout, no state timestamp, no
	// instance id.
	gval0 := (&be{}).i16(0).str("consumer").i32(1).nstr(ptr("range")).nstr(ptr("m")).i32(1).
		str("m").str("c").str("/h").i32(10000).bytes([]byte{1}).bytes([]byte{2}).b
	r, err = ParseRecord(GroupKeyBytes("g"), gval0)
	if err != nil || r.Group == nil || r.Group.Generation != 1 || len(r.Group.Members) != 1 ||
		r.Group.Members[0].SessionTimeoutMillis != 10000 || r.Group.Members[0].ClientHost != "/h" {
		t.Fatalf("group v0: %+v (%v)", r.Group, err)
	}
}

func TestParseTombstonesAndFaults(t *testing.T) {
	r, err := ParseRecord(OffsetKeyBytes("g", "t", 3), nil)
	if err != nil || r.Kind != OffsetRecord || r.Offset != nil || r.Partition != 3 {
		t.Fatalf("offset tombstone: %+v (%v)", r, err)
	}
	r, err = ParseRecord(GroupKeyBytes("g"), nil)
	if err != nil || r.Kind != GroupRecord || r.Group != nil {
		t.Fatalf("group tombstone: %+v (%v)", r, err)
	}
	if _, err := ParseRecord((&be{}).i16(3).str("g").b, nil); !errors.Is(err, ErrUnknownKeyVersion) {
		t.Fatalf("key version 3: %v", err)
	}
	for name, kv := range map[string][2][]byte{
		"short key":           {{0}, nil},
		"truncated key":       {(&be{}).i16(1).str("g").b, nil},
		"truncated value":     {OffsetKeyBytes("g", "t", 0), (&be{}).i16(3).i64(1).b},
		"future value":        {OffsetKeyBytes("g", "t", 0), (&be{}).i16(9).i64(1).b},
		"negative version":    {GroupKeyBytes("g"), (&be{}).i16(-1).b},
		"short group value":   {GroupKeyBytes("g"), {0}},
		"truncated group val": {GroupKeyBytes("g"), (&be{}).i16(3).str("consumer").b},
	} {
		if _, err := ParseRecord(kv[0], kv[1]); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add(OffsetKeyBytes("g", "t", 1), OffsetValueBytes(CommittedOffset{Offset: 1, ExpireTimestamp: NoExpireTimestamp}))
	f.Add(GroupKeyBytes("g"), GroupValueBytes(kmsg.NewGroupMetadataValue()))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		r, err := ParseRecord(key, value)
		if err != nil {
			return
		}
		// What parses re-encodes to something that parses the same.
		switch {
		case r.Kind == OffsetRecord && r.Offset != nil:
			again, err := ParseRecord(OffsetKeyBytes(r.GroupID, r.Topic, r.Partition), OffsetValueBytes(*r.Offset))
			if err != nil || again.Offset.Offset != r.Offset.Offset || again.Offset.Metadata != r.Offset.Metadata {
				t.Fatalf("re-encoded offset %+v: %+v (%v)", r.Offset, again.Offset, err)
			}
		case r.Kind == GroupRecord && r.Group != nil:
			if _, err := ParseRecord(GroupKeyBytes(r.GroupID), GroupValueBytes(*r.Group)); err != nil {
				t.Fatalf("re-encoded group: %v", err)
			}
		}
	})
}
