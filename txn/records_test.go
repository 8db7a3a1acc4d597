package txn

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/model"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The golden bytes follow Kafka's TransactionLogKey/TransactionLogValue
// schemas, version 0: big-endian int16 version, then the classic encoding.
func TestRecordGoldenBytes(t *testing.T) {
	if got, want := KeyBytes("t1"), unhex(t, "0000 0002 7431"); !bytes.Equal(got, want) {
		t.Fatalf("key = %x, want %x", got, want)
	}
	ongoing := &Metadata{ProducerID: 1000, ProducerEpoch: 2, TimeoutMs: 60000, State: Ongoing,
		Partitions:   []model.TopicPartition{{Topic: "b", Partition: 3}, {Topic: "a", Partition: 1}, {Topic: "a", Partition: 0}},
		LastUpdateMs: 0x0102030405, StartTimestamp: 0x0102030400}
	want := unhex(t, "0000 00000000000003e8 0002 0000ea60 01"+
		" 00000002 0001 61 00000002 00000000 00000001 0001 62 00000001 00000003"+
		" 0000000102030405 0000000102030400")
	if got := ValueBytes(ongoing); !bytes.Equal(got, want) {
		t.Fatalf("value =\n%x, want\n%x", got, want)
	}
	empty := &Metadata{ProducerID: 7, ProducerEpoch: 0, TimeoutMs: 1, State: Empty, LastUpdateMs: 5, StartTimestamp: -1}
	want = unhex(t, "0000 0000000000000007 0000 00000001 00 ffffffff 0000000000000005 ffffffffffffffff")
	if got := ValueBytes(empty); !bytes.Equal(got, want) {
		t.Fatalf("empty value = %x, want %x", got, want)
	}
	complete := &Metadata{ProducerID: 7, ProducerEpoch: 1, TimeoutMs: 1, State: CompleteCommit, LastUpdateMs: 5, StartTimestamp: 4}
	want = unhex(t, "0000 0000000000000007 0001 00000001 04 00000000 0000000000000005 0000000000000004")
	if got := ValueBytes(complete); !bytes.Equal(got, want) {
		t.Fatalf("complete value = %x, want %x", got, want)
	}
}

func TestParseRecordRoundTrip(t *testing.T) {
	m := &Metadata{ProducerID: 1000, ProducerEpoch: 2, TimeoutMs: 60000, State: PrepareCommit,
		Partitions:   []model.TopicPartition{{Topic: "a", Partition: 0}, {Topic: "a", Partition: 1}, {Topic: "b", Partition: 3}},
		LastUpdateMs: 10, StartTimestamp: 9}
	id, got, err := ParseRecord(KeyBytes("my-id"), ValueBytes(m))
	if err != nil || id != "my-id" || !reflect.DeepEqual(got, m) {
		t.Fatalf("ParseRecord = %q %+v %v, want %+v", id, got, err, m)
	}
	id, got, err = ParseRecord(KeyBytes("gone"), nil)
	if err != nil || id != "gone" || got != nil {
		t.Fatalf("tombstone = %q %+v %v", id, got, err)
	}
	if _, _, err := ParseRecord(unhex(t, "0001 0002 7431"), nil); !errors.Is(err, ErrUnknownKeyVersion) {
		t.Fatalf("key version 1: %v", err)
	}
	bad := ValueBytes(m)
	bad[16] = 9 // the status byte
	if _, _, err := ParseRecord(KeyBytes("x"), bad); err == nil {
		t.Fatal("unknown state accepted")
	}
	if _, _, err := ParseRecord(KeyBytes("x"), ValueBytes(m)[:20]); err == nil {
		t.Fatal("short value accepted")
	}
}

func TestPartitionFor(t *testing.T) {
	// "my-txn".hashCode() = -1059287307 in Java; abs % 50 = 7.
	if got := PartitionFor("my-txn", 50); got != model.JavaAbs(model.JavaStringHash("my-txn"))%50 {
		t.Fatalf("PartitionFor = %d", got)
	}
	if n := StateByNameMust(t, "PrepareEpochFence"); n != PrepareEpochFence {
		t.Fatal(n)
	}
}

func StateByNameMust(t *testing.T, name string) State {
	s, ok := StateByName(name)
	if !ok || s.String() != name {
		t.Fatalf("StateByName(%q) = %v %v", name, s, ok)
	}
	return s
}

func FuzzParseRecord(f *testing.F) {
	f.Add(KeyBytes("t"), ValueBytes(&Metadata{State: Ongoing, Partitions: []model.TopicPartition{{Topic: "a"}}}))
	f.Add(KeyBytes("t"), ValueBytes(&Metadata{State: Empty}))
	f.Add([]byte{0, 0}, []byte{0, 1, 0})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		id, m, err := ParseRecord(key, value)
		if err != nil || m == nil {
			return
		}
		// What decodes re-encodes to a record that decodes the same.
		id2, m2, err := ParseRecord(KeyBytes(id), ValueBytes(m))
		if err != nil || id2 != id || m2.State != m.State || m2.ProducerID != m.ProducerID || len(m2.Partitions) != len(m.Partitions) {
			t.Fatalf("re-encoding %q %+v gave %q %+v %v", id, m, id2, m2, err)
		}
	})
}
