package itest

// kafka-transactions find-hanging with real brokers: transactional batches
// written two hours in the past (by their record timestamps) that no
// coordinator will end are reported with Kafka's columns; a transaction the
// coordinator knows, on a partition it added, is not; after abort
// --start-offset the hanging ones are gone.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

var findHangingHeader = []string{"Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch",
	"StartOffset", "LastTimestamp", "Duration(min)"}

// produceTxnAt writes one transactional batch, every record stamped ts, to
// a partition on addr.
func produceTxnAt(t *testing.T, addr, topic string, partition int32, txnID string, pid int64, epoch int16, seq int32, ts int64, values ...string) {
	t.Helper()
	if p := produceBatch(t, addr, topic, partition, &txnID, pid, epoch, seq, true, ts, values...); p.ErrorCode != 0 {
		t.Fatalf("transactional produce to %s-%d by %d: %v", topic, partition, pid, kerr.ErrorForCode(p.ErrorCode))
	}
}

// hangingTable parses find-hanging's output: it checks the header and
// returns the rows' trimmed cells.
func hangingTable(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	cells := func(line string) []string {
		if !strings.HasSuffix(line, "\t") {
			t.Fatalf("line %q does not end with a tab:\n%s", line, out)
		}
		f := strings.Split(strings.TrimSuffix(line, "\t"), "\t")
		for i := range f {
			f[i] = strings.TrimRight(f[i], " ")
		}
		return f
	}
	if h := cells(lines[0]); !slices.Equal(h, findHangingHeader) {
		t.Fatalf("header %q, want %q", h, findHangingHeader)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		r := cells(l)
		if len(r) != len(findHangingHeader) {
			t.Fatalf("row %q has %d cells:\n%s", l, len(r), out)
		}
		rows = append(rows, r)
	}
	return rows
}

// hangingWant is one expected row: Duration(min) is checked against the
// clock read before and after the tool ran.
type hangingWant struct {
	topic                string
	partition            int32
	pid                  int64
	epoch                int16
	start, lastTimestamp int64
}

func checkHanging(t *testing.T, bin string, want []hangingWant, args ...string) {
	t.Helper()
	before := time.Now().UnixMilli()
	out, err := runTopicsTool(t, bin, args...)
	after := time.Now().UnixMilli()
	if err != nil {
		t.Fatalf("find-hanging %q: %v\n%s", args, err, out)
	}
	rows := hangingTable(t, out)
	if len(rows) != len(want) {
		t.Fatalf("find-hanging %q: %d rows, want %d:\n%s", args, len(rows), len(want), out)
	}
	for _, w := range want {
		found := false
		for _, r := range rows {
			if r[0] != w.topic || r[1] != fmt.Sprint(w.partition) || r[2] != fmt.Sprint(w.pid) {
				continue
			}
			found = true
			mins, err := strconv.ParseInt(r[7], 10, 64)
			if r[3] != fmt.Sprint(w.epoch) || r[4] != "-1" || r[5] != fmt.Sprint(w.start) ||
				r[6] != fmt.Sprint(w.lastTimestamp) || err != nil ||
				mins < (before-w.lastTimestamp)/60000 || mins > (after-w.lastTimestamp)/60000 {
				t.Fatalf("find-hanging %q: row %q, want %+v:\n%s", args, r, w, out)
			}
		}
		if !found {
			t.Fatalf("find-hanging %q: no row for %s-%d producer %d:\n%s", args, w.topic, w.partition, w.pid, out)
		}
	}
}

// TestFindHangingTransactions: on a two-partition topic, producer G (an
// idempotent producer id no coordinator knows, writing with a made-up
// transactional id) leaves a transaction open on fh-0; producer L (a real
// transactional id with a ten-minute timeout) adds fh-0 to its transaction
// and writes there, and also writes to fh-1 without adding it. Every batch
// is stamped two hours ago. find-hanging reports G on fh-0 (no
// coordinator lists G) and L on fh-1 (the coordinator's description leaves
// fh-1 out), not L on fh-0, by topic, by partition and by broker (whose
// search covers the internal topics too); a 180-minute
// --max-transaction-timeout leaves both out. After abort --start-offset on
// both, find-hanging reports nothing while L's transaction on fh-0 is still
// open and Ongoing at its coordinator.
//
// The unadded writes need the broker's transaction.partition.verification
// (KIP-890) off, as a broker before 3.6 behaved.
func TestFindHangingTransactions(t *testing.T) {
	bin := testcluster.BuildPackage(t, "./tools/kafka-transactions")
	c := newCluster(t, 2, map[string]string{
		"transaction.partition.verification.enable": "false",
		"transaction.state.log.num.partitions":      "1",
		"transaction.state.log.replication.factor":  "2",
		"transaction.state.log.min.isr":             "1",
	})
	adm := newAdmin(t, c)
	const topic = "fh"
	createTopic(t, c, adm, topic, 2, 1, nil)
	boot := c.Broker(0).Addr()
	leaders := map[int32]int32{}
	addrOf := map[int32]string{}
	for p := int32(0); p < 2; p++ {
		eventually(t, waitLong, fmt.Sprintf("a leader for %s-%d", topic, p), func() error {
			id, err := leaderOf(boot, topic, p)
			if err == nil && id < 0 {
				err = fmt.Errorf("no leader")
			}
			leaders[p] = id
			return err
		})
		addrOf[p] = c.BrokerByID(leaders[p]).Addr()
	}
	old := time.Now().Add(-2 * time.Hour).UnixMilli()

	ghost := initProducerID(t, boot, nil)
	if ghost.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(ghost.ErrorCode))
	}
	produceTxnAt(t, addrOf[0], topic, 0, "fh-ghost", ghost.ProducerID, ghost.ProducerEpoch, 0, old, "g0", "g1")

	const liveID = "fh-live"
	coord := waitTxnCoordinator(t, c, boot, liveID, -1)
	var live *txnProducer
	eventually(t, waitLong, "InitProducerId for "+liveID, func() error {
		r := initProducerID(t, coord.Addr(), func(r *kmsg.InitProducerIDRequest) {
			r.TransactionalID, r.TransactionTimeoutMillis = kmsg.StringPtr(liveID), 600000
		})
		if r.ErrorCode != 0 {
			return kerr.ErrorForCode(r.ErrorCode)
		}
		live = &txnProducer{id: liveID, pid: r.ProducerID, epoch: r.ProducerEpoch}
		return nil
	})
	if got := addPartitionsToTxn(t, coord.Addr(), live, 3, topic, 0); got[topic][0] != 0 {
		t.Fatalf("AddPartitionsToTxn: %v", kerr.ErrorForCode(got[topic][0]))
	}
	produceTxnAt(t, addrOf[0], topic, 0, liveID, live.pid, live.epoch, 0, old, "l0")
	produceTxnAt(t, addrOf[1], topic, 1, liveID, live.pid, live.epoch, 0, old, "l1")

	hangG := hangingWant{topic, 0, ghost.ProducerID, ghost.ProducerEpoch, 0, old}
	hangL := hangingWant{topic, 1, live.pid, live.epoch, 0, old}
	checkHanging(t, bin, []hangingWant{hangG, hangL}, "--bootstrap-server", boot, "find-hanging", "--topic", topic)
	checkHanging(t, bin, []hangingWant{hangL}, "--bootstrap-server", boot, "find-hanging", "--topic", topic, "--partition", "1")
	checkHanging(t, bin, nil, "--bootstrap-server", boot, "find-hanging", "--topic", topic, "--max-transaction-timeout", "180")
	for _, b := range c.Brokers() {
		var want []hangingWant
		for _, w := range []hangingWant{hangG, hangL} {
			if leaders[w.partition] == b.ID() {
				want = append(want, w)
			}
		}
		checkHanging(t, bin, want, "--bootstrap-server", boot, "find-hanging", "--broker-id", fmt.Sprint(b.ID()))
	}

	for p := int32(0); p < 2; p++ {
		if out, err := runTopicsTool(t, bin, "--bootstrap-server", boot, "abort", "--topic", topic,
			"--partition", fmt.Sprint(p), "--start-offset", "0"); err != nil {
			t.Fatalf("abort %s-%d: %v\n%s", topic, p, err, out)
		}
	}
	checkHanging(t, bin, nil, "--bootstrap-server", boot, "find-hanging", "--topic", topic)

	// L's transaction on fh-0 is still open (it starts at 2, after G's two
	// records) and its coordinator still has it: find-hanging left it out
	// because of the coordinator, not because it had ended.
	out, err := runTopicsTool(t, bin, "--bootstrap-server", boot, "describe-producers", "--topic", topic, "--partition", "0")
	if err != nil {
		t.Fatal(err)
	}
	open := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 6 && f[0] == fmt.Sprint(live.pid) && f[5] == "2" {
			open = true
		}
	}
	if !open {
		t.Fatalf("describe-producers %s-0: no open transaction of %d at offset 2:\n%s", topic, live.pid, out)
	}
	if st := describeTxn(t, coord.Addr(), liveID); st.ErrorCode != 0 || st.State != "Ongoing" ||
		len(st.Topics) != 1 || st.Topics[0].Topic != topic || !slices.Equal(st.Topics[0].Partitions, []int32{0}) {
		t.Fatalf("DescribeTransactions %s: %+v", liveID, st)
	}
}
