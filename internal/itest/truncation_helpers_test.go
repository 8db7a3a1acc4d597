package itest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// truncProduce writes n records (values "<tag>-<i>") to partition 0 of
// topic in one ProduceSync call with the given acks and returns them with
// the offsets the leader assigned.
func truncProduce(t testing.TB, seeds []string, topic, tag string, n int, acks kgo.Acks) []sentRecord {
	t.Helper()
	cl := newClient(t, seeds, kgo.RequiredAcks(acks), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	defer cl.Close()
	return truncProduceWith(t, cl, topic, tag, n)
}

// truncProduceWith is truncProduce on an existing client.
func truncProduceWith(t testing.TB, cl *kgo.Client, topic, tag string, n int) []sentRecord {
	t.Helper()
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Partition: 0, Key: []byte(fmt.Sprintf("%s-key-%d", tag, i)), Value: []byte(fmt.Sprintf("%s-%d", tag, i))}
	}
	if err := cl.ProduceSync(testCtx(t, 2*waitLong), rs...).FirstErr(); err != nil {
		t.Fatalf("produce %s to %s: %v", tag, topic, err)
	}
	return sentFromKgo(rs)
}

// checkOffsetsFrom checks that sent holds the dense offsets first, first+1, ...
func checkOffsetsFrom(t testing.TB, what string, sent []sentRecord, first int64) {
	t.Helper()
	for i, s := range sent {
		if s.Offset != first+int64(i) {
			t.Fatalf("%s: record %d (%q) got offset %d, want %d", what, i, s.Value, s.Offset, first+int64(i))
		}
	}
}

// firstSegmentPath is the .log file with base offset 0 of partition 0 of topic
// in a broker's first log directory.
func firstSegmentPath(b *testcluster.Broker, topic string) string {
	return filepath.Join(replicaDir(b, topic), "00000000000000000000.log")
}

func replicaDir(b *testcluster.Broker, topic string) string {
	return filepath.Join(b.LogDir(), topic+"-0")
}

// segmentFileNames lists the *.log files of a partition directory by name.
func segmentFileNames(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	sort.Strings(names)
	return names, nil
}

// sameSegmentFiles reports (as an error) how the .log files of partition
// 0 of topic on broker b differ from those on ref: file names, sizes,
// first differing byte.
func sameSegmentFiles(ref, b *testcluster.Broker, topic string) error {
	refDir, dir := replicaDir(ref, topic), replicaDir(b, topic)
	refNames, err := segmentFileNames(refDir)
	if err != nil {
		return err
	}
	names, err := segmentFileNames(dir)
	if err != nil {
		return err
	}
	if strings.Join(refNames, ",") != strings.Join(names, ",") {
		return fmt.Errorf("broker %d has segments %v, broker %d has %v", b.ID(), names, ref.ID(), refNames)
	}
	if len(names) == 0 {
		return fmt.Errorf("no segment files in %s", dir)
	}
	for _, n := range names {
		want, err := os.ReadFile(filepath.Join(refDir, n))
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			return fmt.Errorf("%s: broker %d has %d bytes, broker %d has %d; first difference at byte %d",
				n, b.ID(), len(got), ref.ID(), len(want), i)
		}
	}
	return nil
}

// segBatch is where one batch lies in a .log file.
type segBatch struct {
	pos, size  int
	base, last int64
	epoch      int32
}

// scanBatches walks the batch headers of a .log file; trailing bytes that
// do not form a whole batch are an error.
func scanSegmentBatches(data []byte) ([]segBatch, error) {
	var out []segBatch
	for pos := 0; pos < len(data); {
		if len(data)-pos < 61 {
			return out, fmt.Errorf("%d trailing bytes at position %d", len(data)-pos, pos)
		}
		size := int(int32(binary.BigEndian.Uint32(data[pos+8:]))) + 12
		if size < 61 || pos+size > len(data) {
			return out, fmt.Errorf("batch at position %d: length %d, %d bytes left", pos, size, len(data)-pos)
		}
		base := int64(binary.BigEndian.Uint64(data[pos:]))
		lastDelta := int32(binary.BigEndian.Uint32(data[pos+23:]))
		out = append(out, segBatch{
			pos: pos, size: size,
			base: base, last: base + int64(lastDelta),
			epoch: int32(binary.BigEndian.Uint32(data[pos+12:])),
		})
		pos += size
	}
	return out, nil
}

// checkOffsetIndex checks the offset index of segment 0 of partition 0 of
// topic on broker b against its .log: entries (until the zero padding of
// a preallocated index) have strictly increasing offsets and positions,
// each position is the start of a batch whose base offset is at most the
// entry's offset, and the entry's offset is found by reading forward from
// there. It returns the number of entries.
func checkOffsetIndex(t testing.TB, b *testcluster.Broker, topic string) int {
	t.Helper()
	logPath := firstSegmentPath(b, topic)
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := scanSegmentBatches(data)
	if err != nil {
		t.Fatalf("%s: %v", logPath, err)
	}
	at := map[int]int{} // position -> index in batches
	for i, bi := range batches {
		at[bi.pos] = i
	}
	idxPath := strings.TrimSuffix(logPath, ".log") + ".index"
	idx, err := os.ReadFile(idxPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx)%8 != 0 {
		t.Fatalf("%s: %d bytes, not whole entries", idxPath, len(idx))
	}
	n := 0
	lastOff, lastPos := int64(-1), -1
	for i := 0; i+8 <= len(idx); i += 8 {
		rel := int64(binary.BigEndian.Uint32(idx[i:]))
		pos := int(binary.BigEndian.Uint32(idx[i+4:]))
		if rel == 0 && pos == 0 {
			if !allZero(idx[i:]) {
				t.Fatalf("%s: entry %d is (0, 0) but entries follow", idxPath, n)
			}
			break
		}
		if rel <= lastOff || pos <= lastPos {
			t.Fatalf("%s: entry %d (%d, %d) does not follow (%d, %d)", idxPath, n, rel, pos, lastOff, lastPos)
		}
		j, ok := at[pos]
		if !ok {
			t.Fatalf("%s: entry %d (%d, %d): no batch starts at position %d of %s", idxPath, n, rel, pos, pos, logPath)
		}
		if batches[j].base > rel {
			t.Fatalf("%s: entry %d (%d, %d) points at a batch starting at offset %d", idxPath, n, rel, pos, batches[j].base)
		}
		found := false
		for _, bi := range batches[j:] {
			if bi.base <= rel && rel <= bi.last {
				found = true
				break
			}
			if bi.base > rel {
				break
			}
		}
		if !found {
			t.Fatalf("%s: entry %d (%d, %d): offset %d is in no batch at or after that position", idxPath, n, rel, pos, rel)
		}
		lastOff, lastPos = rel, pos
		n++
	}
	return n
}

// logSince is a broker's log output after the first from bytes.
func logSince(b *testcluster.Broker, from int) string {
	s := b.Log()
	if from > len(s) {
		return ""
	}
	return s[from:]
}

// truncLogEntries decodes the JSON log lines whose message is msg.
func truncLogEntries(log, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// field renders a decoded JSON log field for comparison ("" if absent).
func logField(e map[string]any, k string) string {
	v, ok := e[k]
	if !ok {
		return ""
	}
	return fmt.Sprint(v)
}

// socketsTo reports, for the process pid, how many of its TCP sockets are
// connected to the given remote port on this host and how many received
// bytes they hold that the process has not read (rx_queue in
// /proc/<pid>/net/tcp). On a stopped process this shows whether an answer
// arrived for a request it sent before being stopped.
func socketsTo(pid, port int) (conns int, unread int64, err error) {
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0, 0, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	for _, name := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/" + name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			rem := f[2]
			i := strings.LastIndexByte(rem, ':')
			p, err := strconv.ParseUint(rem[i+1:], 16, 16)
			if i < 0 || err != nil || int(p) != port {
				continue
			}
			q := f[4]
			j := strings.IndexByte(q, ':')
			rx, err := strconv.ParseInt(q[j+1:], 16, 64)
			if j < 0 || err != nil {
				return 0, 0, fmt.Errorf("/proc/%d/net/%s: queue field %q", pid, name, q)
			}
			conns++
			unread += rx
		}
	}
	return conns, unread, nil
}

// portOf is the port of a host:port address.
func addrPort(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitSegmentsEqual waits until the .log files of partition 0 of topic on
// each broker are byte for byte those of ref.
func waitSegmentsEqual(t testing.TB, ref *testcluster.Broker, topic string, others ...*testcluster.Broker) {
	t.Helper()
	for _, b := range others {
		eventually(t, waitLong, fmt.Sprintf("broker %d's %s-0 segments equal to broker %d's", b.ID(), topic, ref.ID()), func() error {
			return sameSegmentFiles(ref, b, topic)
		})
	}
}

// checkpointedHW is the high watermark of partition 0 of topic in a
// broker's replication-offset-checkpoint (0 when it is not listed or the
// file does not exist yet).
func checkpointedHW(t testing.TB, b *testcluster.Broker, topic string) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.LogDir(), "replication-offset-checkpoint"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == topic && f[1] == "0" {
			hw, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Fatalf("replication-offset-checkpoint line %q", line)
			}
			return hw
		}
	}
	return 0
}

// highWatermarkOn asks broker addr, as a consumer, for the latest offset
// (the high watermark) of partition 0 of topic.
func highWatermarkOn(addr, topic string) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = 4
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.Timestamp = 0, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(addr, req)
	if err != nil {
		return 0, err
	}
	r := resp.(*kmsg.ListOffsetsResponse)
	if len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 {
		return 0, fmt.Errorf("ListOffsets answer %+v", r.Topics)
	}
	p := r.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return 0, err
	}
	return p.Offset, nil
}
