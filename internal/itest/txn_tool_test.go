package itest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// TestTransactionsToolAbortsAHangingTransaction: a transactional batch
// whose coordinator never writes a marker holds the last stable offset;
// kafka-transactions describe-producers shows the producer and its open
// transaction, and abort --start-offset writes the ABORT marker, after
// which read_committed reaches the end and skips the aborted records.
func TestTransactionsToolAbortsAHangingTransaction(t *testing.T) {
	bin := testcluster.BuildPackage(t, "./tools/kafka-transactions")
	// Hanging transactions come from brokers that do not verify
	// transactional produces with the coordinator (before Kafka 3.6, or
	// with transaction.partition.verification.enable=false): this one
	// writes a transactional batch no coordinator knows of.
	c := newCluster(t, 1, noTxnVerification)
	adm := newAdmin(t, c)
	const topic = "hang"
	createTopic(t, c, adm, topic, 1, 1, nil)
	addr := c.Broker(0).Addr()
	ip := initProducerID(t, addr, nil)
	if ip.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(ip.ErrorCode))
	}
	txnID := "hanging"
	if p := txnProduce(t, addr, topic, &txnID, ip.ProducerID, ip.ProducerEpoch, 0, true, "stuck-0", "stuck-1"); p.ErrorCode != 0 {
		t.Fatalf("transactional produce: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	if p := txnProduce(t, addr, topic, nil, -1, -1, -1, false, "plain"); p.ErrorCode != 0 {
		t.Fatalf("plain produce: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	if lso := latestOffset(t, addr, topic, 1); lso != 0 {
		t.Fatalf("LSO %d with the transaction open, want 0", lso)
	}

	out, err := runTopicsTool(t, bin, "--bootstrap-server", addr, "describe-producers", "--topic", topic, "--partition", "0")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ProducerId") ||
		!strings.HasPrefix(lines[1], fmt.Sprint(ip.ProducerID)) || !strings.HasSuffix(strings.TrimSpace(lines[1]), "0") {
		t.Fatalf("describe-producers output:\n%s", out)
	}

	if out, err := runTopicsTool(t, bin, "--bootstrap-server", addr, "abort", "--topic", topic, "--partition", "0", "--start-offset", "0"); err != nil {
		t.Fatalf("abort: %v\n%s", err, out)
	}
	eventually(t, waitLong, "the LSO past the aborted transaction", func() error {
		if lso := latestOffset(t, addr, topic, 1); lso != 4 {
			return fmt.Errorf("LSO %d, want 4 (2 aborted records, 1 plain, the marker)", lso)
		}
		return nil
	})
	if got := consumeValues(t, c.BootstrapAddrs(), topic, "plain", kgo.ReadCommitted()); len(got) != 1 || got[0] != "plain" {
		t.Fatalf("read_committed after the abort: %q", got)
	}
}
