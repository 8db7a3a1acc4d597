package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func expect(t *testing.T, r kfaketest.Result, code int, stdout, stderr string) {
	t.Helper()
	if r.Code != code || r.Stdout != stdout || r.Stderr != stderr {
		t.Fatalf("got code %d\nstdout:\n%q\nstderr:\n%q\nwant code %d\nstdout:\n%q\nstderr:\n%q",
			r.Code, r.Stdout, r.Stderr, code, stdout, stderr)
	}
}

// tool runs kafka-consumer-groups against bs.
func tool(t *testing.T, bs string, args ...string) kfaketest.Result {
	t.Helper()
	return kfaketest.Run(t, run, "", append([]string{"--bootstrap-server", bs}, args...)...)
}

// pad is Java's "%-ws".
func pad(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
}

// eventually polls cond every 20 ms until it holds or 15 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func admin(t *testing.T, bs string) *kadm.Client {
	return kadm.NewClient(kfaketest.Client(t, bs))
}

// produce writes n records to each listed partition of topic.
func produce(t *testing.T, bs, topic string, counts map[int32]int) {
	t.Helper()
	cl := kfaketest.Client(t, bs, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var rs []*kgo.Record
	for p, n := range counts {
		for i := range n {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprint(i))})
		}
	}
	kfaketest.Produce(t, cl, rs...)
}

// startMember starts a classic group member with the range assignor that joins
// group and consumes topics; it leaves when the test ends (or when closed).
func startMember(t *testing.T, bs, group, clientID string, topics ...string) *kgo.Client {
	t.Helper()
	return kfaketest.Client(t, bs, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...), kgo.ClientID(clientID),
		kgo.Balancers(kgo.RangeBalancer()), kgo.DisableAutoCommit(), kgo.FetchMaxWait(100*time.Millisecond))
}

// pollUntilAssigned keeps the members polling (a kgo member joins and
// rebalances while it polls) until the group is Stable with every member
// assigned.
func waitStable(t *testing.T, bs, group string, members ...*kgo.Client) kadm.DescribedGroup {
	t.Helper()
	adm := admin(t, bs)
	var got kadm.DescribedGroup
	eventually(t, "group "+group+" to be stable", func() bool {
		for _, m := range members {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			m.PollFetches(ctx)
			cancel()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ds, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return false
		}
		got = ds[group]
		if got.State != "Stable" || len(got.Members) != len(members) {
			return false
		}
		for _, m := range got.Members {
			a, ok := m.Assigned.AsConsumer()
			if !ok || len(a.Topics) == 0 {
				return false
			}
		}
		return true
	})
	return got
}

// memberOf returns the described member with the client id.
func memberOf(t *testing.T, g kadm.DescribedGroup, clientID string) kadm.DescribedGroupMember {
	t.Helper()
	for _, m := range g.Members {
		if m.ClientID == clientID {
			return m
		}
	}
	t.Fatalf("no member %s in %+v", clientID, g)
	return kadm.DescribedGroupMember{}
}

// commitAs commits offsets (topic -> partition -> offset) through a group
// member, with its generation.
func commitAs(t *testing.T, m *kgo.Client, offsets map[string]map[int32]int64) {
	t.Helper()
	eo := map[string]map[int32]kgo.EpochOffset{}
	for topic, ps := range offsets {
		eo[topic] = map[int32]kgo.EpochOffset{}
		for p, o := range ps {
			eo[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var commitErr error
	m.CommitOffsetsSync(ctx, eo, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = err
		if err == nil {
			for _, tr := range resp.Topics {
				for _, pr := range tr.Partitions {
					if pr.ErrorCode != 0 && commitErr == nil {
						commitErr = fmt.Errorf("%s-%d: code %d", tr.Topic, pr.Partition, pr.ErrorCode)
					}
				}
			}
		}
	})
	if commitErr != nil {
		t.Fatalf("commit: %v", commitErr)
	}
}

// commitEmpty commits offsets for a group without members (which makes it
// an Empty group).
func commitEmpty(t *testing.T, bs, group string, offsets map[string]map[int32]int64) {
	t.Helper()
	var os kadm.Offsets
	for topic, ps := range offsets {
		for p, o := range ps {
			os.AddOffset(topic, p, o, -1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin(t, bs).CommitAllOffsets(ctx, group, os); err != nil {
		t.Fatalf("commit %s: %v", group, err)
	}
}

// committedOf fetches a group's committed offsets as "topic-p=offset"
// sorted.
func committedOf(t *testing.T, bs, group string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := admin(t, bs).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	var out []string
	resp.Each(func(o kadm.OffsetResponse) {
		out = append(out, fmt.Sprintf("%s-%d=%d", o.Topic, o.Partition, o.At))
	})
	sort.Strings(out)
	return strings.Join(out, ",")
}

// sortedLines returns the lines of s sorted (for output whose row order
// the broker decides).
func sortedLines(s string) []string {
	lines := strings.Split(s, "\n")
	sort.Strings(lines)
	return lines
}

// kgoStatic are the options of a static group member (group.instance.id).
func kgoStatic(group, clientID, instanceID string, topics ...string) []kgo.Opt {
	return []kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...), kgo.ClientID(clientID), kgo.InstanceID(instanceID),
		kgo.Balancers(kgo.RangeBalancer()), kgo.DisableAutoCommit(), kgo.FetchMaxWait(100 * time.Millisecond)}
}
