package itest

import (
	"fmt"
	"testing"

	"github.com/IBM/sarama"
)

// TestSaramaTransactions: sarama's transactional producer commits and
// aborts transactions over two partitions; a read_committed sarama
// consumer sees each committed record once and never an aborted one,
// while read_uncommitted sees both, in log order.
func TestSaramaTransactions(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	const topic = "sarama-txn"
	createTopic(t, c, adm, topic, 2, 3, nil)

	cfg := saramaConfig(sarama.V3_9_0_0, sarama.CompressionNone)
	cfg.Producer.Idempotent = true
	cfg.Producer.Transaction.ID = "sarama-txn-producer"
	cfg.Net.MaxOpenRequests = 1
	prod, err := sarama.NewSyncProducer(c.BootstrapAddrs(), cfg)
	if err != nil {
		t.Fatalf("transactional producer: %v", err)
	}
	defer prod.Close()

	// Transactions 0 and 2 commit, 1 and 3 abort; each writes one record
	// to each partition.
	committed := map[int32][]string{}
	all := map[int32][]string{}
	for txn := 0; txn < 4; txn++ {
		if err := prod.BeginTxn(); err != nil {
			t.Fatalf("begin %d: %v", txn, err)
		}
		for p := int32(0); p < 2; p++ {
			v := fmt.Sprintf("txn%d-p%d", txn, p)
			if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.StringEncoder(v)}); err != nil {
				t.Fatalf("send %s: %v", v, err)
			}
			all[p] = append(all[p], v)
			if txn%2 == 0 {
				committed[p] = append(committed[p], v)
			}
		}
		if txn%2 == 0 {
			err = prod.CommitTxn()
		} else {
			err = prod.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end %d: %v", txn, err)
		}
	}
	// A last committed record per partition marks the end for the readers.
	if err := prod.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		v := fmt.Sprintf("end-p%d", p)
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.StringEncoder(v)}); err != nil {
			t.Fatal(err)
		}
		committed[p] = append(committed[p], v)
		all[p] = append(all[p], v)
	}
	if err := prod.CommitTxn(); err != nil {
		t.Fatal(err)
	}

	for _, level := range []sarama.IsolationLevel{sarama.ReadCommitted, sarama.ReadUncommitted} {
		ccfg := saramaConfig(sarama.V3_9_0_0, sarama.CompressionNone)
		ccfg.Consumer.IsolationLevel = level
		want := all
		if level == sarama.ReadCommitted {
			want = committed
		}
		for p := int32(0); p < 2; p++ {
			got := saramaConsume(t, c.BootstrapAddrs(), ccfg, topic, p, len(want[p]))
			var vals []string
			for _, r := range got {
				vals = append(vals, string(r.Value))
			}
			if fmt.Sprint(vals) != fmt.Sprint(want[p]) {
				t.Fatalf("isolation %d, partition %d: read %q, want %q", level, p, vals, want[p])
			}
		}
	}
}
