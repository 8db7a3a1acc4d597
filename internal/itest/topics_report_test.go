package itest

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// runTopicsTool runs the kafka-topics binary and returns its stdout.
func runTopicsTool(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, errOut.String())
	}
	return out.String(), nil
}

// partitionLines keeps the "\tTopic: ... Partition: ..." lines of a
// describe output, for the given topics.
func partitionLines(out string, topics ...string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		for _, tp := range topics {
			if strings.HasPrefix(l, "\tTopic: "+tp+"\t") {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// TestTopicsToolReportsReplicationTrouble: with one broker killed, the
// kafka-topics --describe reports list exactly the partitions that lost a
// replica (--under-replicated-partitions), that have no leader
// (--unavailable-partitions) and whose ISR equals min.insync.replicas
// (--at-min-isr-partitions), as Kafka's tool shows them.
func TestTopicsToolReportsReplicationTrouble(t *testing.T) {
	bin := testcluster.BuildPackage(t, "./tools/kafka-topics")
	c := newCluster(t, 3, nil)
	ctrl := c.WaitForController()
	var victim int32 = -1
	for _, b := range c.Brokers() {
		if b.ID() != ctrl {
			victim = b.ID()
			break
		}
	}
	adm := newAdmin(t, c)
	two := "2"
	createTopic(t, c, adm, "urp", 2, 3, map[string]*string{"min.insync.replicas": &two})
	// "solo" lives on the victim alone.
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "solo", -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Partition, ra.Replicas = 0, []int32{victim}
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(c.BrokerByID(ctrl).Addr(), req)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode; code != 0 {
		t.Fatalf("create solo: error %d", code)
	}
	waitTopicEverywhere(t, c, "solo", 1)

	bs := c.BrokerByID(ctrl).Addr()
	out, err := runTopicsTool(t, bin, "--bootstrap-server", bs, "--describe", "--under-replicated-partitions")
	if err != nil || len(partitionLines(out, "urp", "solo")) != 0 {
		t.Fatalf("healthy cluster: under-replicated report %q (%v)", out, err)
	}

	c.BrokerByID(victim).Kill9()
	eventually(t, waitLong, "the reports after the broker's death", func() error {
		under, err := runTopicsTool(t, bin, "--bootstrap-server", bs, "--describe", "--under-replicated-partitions")
		if err != nil {
			return err
		}
		if got := partitionLines(under, "urp"); len(got) != 2 {
			return fmt.Errorf("under-replicated: %q", got)
		}
		for _, l := range partitionLines(under, "urp") {
			isr := l[strings.Index(l, "Isr: ")+len("Isr: "):]
			isr, _, _ = strings.Cut(isr, "\t")
			if isr == "" || slices.Contains(strings.Split(isr, ","), fmt.Sprint(victim)) {
				return fmt.Errorf("dead broker %d still in the ISR: %q", victim, l)
			}
		}
		unavailable, err := runTopicsTool(t, bin, "--bootstrap-server", bs, "--describe", "--unavailable-partitions")
		if err != nil {
			return err
		}
		if got := partitionLines(unavailable, "urp", "solo"); len(got) != 1 || !strings.Contains(got[0], "Topic: solo\tPartition: 0\tLeader: none") {
			return fmt.Errorf("unavailable: %q", got)
		}
		atMin, err := runTopicsTool(t, bin, "--bootstrap-server", bs, "--describe", "--at-min-isr-partitions", "--topic", "urp")
		if err != nil {
			return err
		}
		if got := partitionLines(atMin, "urp"); len(got) != 2 {
			return fmt.Errorf("at min ISR: %q", got)
		}
		return nil
	})
}
