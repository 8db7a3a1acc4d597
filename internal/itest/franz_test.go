package itest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var kgoCodecs = []struct {
	name  string
	codec kgo.CompressionCodec
	attr  uint8 // the batch attribute's codec bits
}{
	{"none", kgo.NoCompression(), 0},
	{"gzip", kgo.GzipCompression(), 1},
	{"snappy", kgo.SnappyCompression(), 2},
	{"lz4", kgo.Lz4Compression(), 3},
	{"zstd", kgo.ZstdCompression(), 4},
}

// kgoRecords builds n records spread over partitions by key, with headers
// and CreateTime timestamps; values compress well so that every codec is
// really used.
func kgoRecords(topic, tag string, n int) []*kgo.Record {
	base := time.Date(2025, 7, 1, 8, 30, 0, 0, time.UTC).UnixMilli()
	out := make([]*kgo.Record, n)
	for i := range out {
		r := &kgo.Record{
			Topic:     topic,
			Key:       []byte(fmt.Sprintf("%s-%d", tag, i)),
			Value:     []byte(strings.Repeat(fmt.Sprintf("%s/%d ", tag, i), 30)),
			Timestamp: time.UnixMilli(base + int64(i)),
			Headers: []kgo.RecordHeader{
				{Key: "tag", Value: []byte(tag)},
				{Key: "i", Value: []byte(fmt.Sprint(i))},
			},
		}
		if i%10 == 9 {
			r.Headers = nil
		}
		out[i] = r
	}
	return out
}

func sentFromKgo(rs []*kgo.Record) []sentRecord {
	out := make([]sentRecord, len(rs))
	for i, r := range rs {
		out[i] = sentRecord{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp}
	}
	return out
}

func TestFranzGo(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	const partitions = 6

	// acks=all and acks=1, each codec, all into one topic with six
	// partitions; every acknowledged record must come back exactly, in
	// a batch stored with the codec it was produced with.
	for _, acks := range []struct {
		name string
		acks kgo.Acks
	}{{"AcksAll", kgo.AllISRAcks()}, {"AcksLeader", kgo.LeaderAck()}} {
		t.Run(acks.name, func(t *testing.T) {
			topic := "kgo-" + strings.ToLower(acks.name)
			createTopic(t, c, adm, topic, partitions, 3, nil)
			var sent []sentRecord
			codecOf := map[[2]int64]uint8{}
			for _, cd := range kgoCodecs {
				cl := newClient(t, seeds,
					kgo.RequiredAcks(acks.acks),
					kgo.ProducerBatchCompression(cd.codec),
					kgo.ProducerLinger(5*time.Millisecond))
				rs := kgoRecords(topic, acks.name+"-"+cd.name, 60)
				ctx := testCtx(t, waitLong)
				if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
					t.Fatalf("%s: produce: %v", cd.name, err)
				}
				cl.Close()
				for _, r := range rs {
					codecOf[[2]int64{int64(r.Partition), r.Offset}] = cd.attr
				}
				sent = append(sent, sentFromKgo(rs)...)
			}
			parts := countByPartition(sent)
			if len(parts) < 2 {
				t.Fatalf("records went to %d partition(s); the test wants several", len(parts))
			}
			checkDenseOffsets(t, sent)
			got := consumeRange(t, seeds, topic, parts)
			checkRecords(t, sent, got)
			for _, rs := range got {
				for _, r := range rs {
					if want := codecOf[[2]int64{int64(r.Partition), r.Offset}]; r.Attrs.CompressionType() != want {
						t.Errorf("p%d@%d: stored with codec %d, produced with %d", r.Partition, r.Offset, r.Attrs.CompressionType(), want)
					}
					if r.Attrs.TimestampType() != 0 {
						t.Errorf("p%d@%d: timestamp type %d, want 0 (CreateTime)", r.Partition, r.Offset, r.Attrs.TimestampType())
					}
				}
			}
		})
	}

	// acks=0: the broker answers nothing; the records become visible.
	t.Run("AcksNone", func(t *testing.T) {
		topic := "kgo-acks-none"
		createTopic(t, c, adm, topic, 3, 3, nil)
		var all []*kgo.Record
		for _, cd := range kgoCodecs {
			cl := newClient(t, seeds, kgo.RequiredAcks(kgo.NoAck()), kgo.ProducerBatchCompression(cd.codec))
			rs := kgoRecords(topic, "acks0-"+cd.name, 40)
			ctx := testCtx(t, waitLong)
			if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
				t.Fatalf("%s: %v", cd.name, err)
			}
			cl.Close()
			all = append(all, rs...)
		}
		want := map[string]*kgo.Record{}
		for _, r := range all {
			want[string(r.Key)] = r
		}
		// Consume until every key has been seen (no offsets are known).
		cl := newClient(t, seeds,
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(0), 1: kgo.NewOffset().At(0), 2: kgo.NewOffset().At(0)}}),
			kgo.FetchMaxWait(500*time.Millisecond))
		seen := map[string]*kgo.Record{}
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		for len(seen) < len(want) {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("acks=0 records visible: %d of %d within %v", len(seen), len(want), waitLong)
			}
			fs.EachRecord(func(r *kgo.Record) {
				if seen[string(r.Key)] != nil {
					t.Errorf("key %s delivered twice (offsets %d and %d)", r.Key, seen[string(r.Key)].Offset, r.Offset)
				}
				seen[string(r.Key)] = r
			})
		}
		for k, s := range want {
			r := seen[k]
			if r == nil {
				t.Errorf("acks=0 record %s never visible", k)
				continue
			}
			exp := sentRecord{Partition: r.Partition, Offset: r.Offset, Key: s.Key, Value: s.Value, Headers: s.Headers, Timestamp: s.Timestamp}
			if err := sameRecord(exp, r); err != nil {
				t.Errorf("acks=0 record %s: %v", k, err)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("consumed %d distinct keys, produced %d", len(seen), len(want))
		}
	})

	// A topic configured for zstd is refused to consumers older than
	// Fetch v10 (UNSUPPORTED_COMPRESSION_TYPE, HW -1), served from v10 on.
	t.Run("ZstdTopicOldFetch", func(t *testing.T) {
		topic := "kgo-zstd-topic"
		zstd := "zstd"
		createTopic(t, c, adm, topic, 1, 1, map[string]*string{"compression.type": &zstd})
		cl := newClient(t, seeds, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
		if err := cl.ProduceSync(testCtx(t, waitLong), kgoRecords(topic, "zstd", 5)...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		leader, err := leaderOf(seeds[0], topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []int16{4, 9, 10, 12} {
			req := kmsg.NewPtrFetchRequest()
			req.Version, req.ReplicaID, req.MaxBytes, req.SessionEpoch = v, -1, 1<<20, -1
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LastFetchedEpoch = 1<<20, -1, -1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := oneRequest(c.BrokerByID(leader).Addr(), req)
			if err != nil {
				t.Fatalf("Fetch v%d: %v", v, err)
			}
			p := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
			if v < 10 {
				if p.ErrorCode != kerr.UnsupportedCompressionType.Code || p.HighWatermark != -1 || len(p.RecordBatches) != 0 {
					t.Errorf("Fetch v%d: error %v, HW %d, %d record bytes; want UNSUPPORTED_COMPRESSION_TYPE, -1, 0",
						v, kerr.ErrorForCode(p.ErrorCode), p.HighWatermark, len(p.RecordBatches))
				}
				continue
			}
			if p.ErrorCode != 0 || p.HighWatermark != 5 || len(p.RecordBatches) == 0 {
				t.Errorf("Fetch v%d: error %v, HW %d, %d record bytes; want no error, 5, the batch",
					v, kerr.ErrorForCode(p.ErrorCode), p.HighWatermark, len(p.RecordBatches))
			}
		}
	})

	// Several producers at once on one client, pipelining requests to all
	// three brokers, with consumers reading concurrently.
	t.Run("Concurrent", func(t *testing.T) {
		topic := "kgo-concurrent"
		createTopic(t, c, adm, topic, partitions, 3, nil)
		cl := newClient(t, seeds, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.Lz4Compression()),
			kgo.MaxBufferedRecords(200))
		var mu sync.Mutex
		var sent []sentRecord
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs := kgoRecords(topic, fmt.Sprintf("g%d", g), 150)
				ctx, cancel := context.WithTimeout(context.Background(), waitLong)
				defer cancel()
				if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				sent = append(sent, sentFromKgo(rs)...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		checkDenseOffsets(t, sent)
		checkRecords(t, sent, consumeRange(t, seeds, topic, countByPartition(sent)))
	})
}
