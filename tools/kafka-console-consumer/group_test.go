package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

// committed returns a group's committed offsets as "topic-p=offset",
// sorted; "" for a group without any.
func committed(t *testing.T, bs, group string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(kfaketest.Client(t, bs)).FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	var out []string
	resp.Each(func(o kadm.OffsetResponse) { out = append(out, fmt.Sprintf("%s-%d=%d", o.Topic, o.Partition, o.At)) })
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestConsumeWithGroup(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "events"))
	seed(t, bs, "events", 0)

	// The group commits what was printed, and the next run resumes there
	// (--from-beginning only matters for a group without offsets).
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--group", "g", "--from-beginning", "--max-messages", "2"),
		0, "v0\nv1\n", "Processed a total of 2 messages\n")
	if got := committed(t, bs, "g"); got != "events-0=2" {
		t.Fatalf("committed after the first run: %q", got)
	}
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--group", "g", "--from-beginning", "--max-messages", "1",
		"--property", "print.offset=true"), 0, "Offset:2\tnull\n", "Processed a total of 1 messages\n")
	if got := committed(t, bs, "g"); got != "events-0=3" {
		t.Fatalf("committed after the second run: %q", got)
	}

	// group.id as a consumer property, or from --consumer.config;
	// enable.auto.commit=false commits nothing.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--include", "ev.*", "--consumer-property", "group.id=g2",
		"--consumer-property", "auto.offset.reset=earliest", "--max-messages", "3"), 0, "v0\nv1\nnull\n", "Processed a total of 3 messages\n")
	if got := committed(t, bs, "g2"); got != "events-0=3" {
		t.Fatalf("g2: %q", got)
	}
	cfg := filepath.Join(t.TempDir(), "consumer.properties")
	if err := os.WriteFile(cfg, []byte("group.id=g3\nenable.auto.commit=false\nauto.commit.interval.ms=100\n"+
		"partition.assignment.strategy=org.apache.kafka.clients.consumer.RoundRobinAssignor\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--consumer.config", cfg, "--from-beginning",
		"--max-messages", "1"), 0, "v0\n", "Processed a total of 1 messages\n")
	if got := committed(t, bs, "g3"); got != "" {
		t.Fatalf("g3 committed with enable.auto.commit=false: %q", got)
	}

	// While it waits for records the tool is a member of the group, with
	// the client id Java's consumer would have.
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--bootstrap-server", bs, "--topic", "events", "--group", "live", "--from-beginning", "--max-messages", "4"},
			strings.NewReader(""), &out, &errb)
	}()
	adm := kadm.NewClient(kfaketest.Client(t, bs))
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ds, err := adm.DescribeGroups(ctx, "live")
		cancel()
		if g := ds["live"]; err == nil && g.State == "Stable" && len(g.Members) == 1 && g.Members[0].ClientID == "consumer-live-1" && g.Protocol == "range" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console consumer did not join group live: %+v %v", ds, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kfaketest.Produce(t, kfaketest.Client(t, bs), &kgo.Record{Topic: "events", Value: []byte("v3")})
	select {
	case code := <-done:
		if code != 0 || out.String() != "v0\nv1\nnull\nv3\n" || errb.String() != "Processed a total of 4 messages\n" {
			t.Fatalf("live: %d %q %q", code, out.String(), errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the console consumer did not finish")
	}
	if got := committed(t, bs, "live"); got != "events-0=4" {
		t.Fatalf("live: %q", got)
	}

	// Java's log lines name the group.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "ghost", "--group", "g", "--timeout-ms", "300",
		"--consumer-property", "allow.auto.create.topics=false"), 0, "",
		"WARN [Consumer clientId=consumer-g-1, groupId=g] Error while fetching metadata : {ghost=UNKNOWN_TOPIC_OR_PARTITION}\n"+
			"Processed a total of 0 messages\n")
}
