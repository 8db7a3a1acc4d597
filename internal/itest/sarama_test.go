package itest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var saramaCodecs = []sarama.CompressionCodec{
	sarama.CompressionNone, sarama.CompressionGZIP, sarama.CompressionSnappy,
	sarama.CompressionLZ4, sarama.CompressionZSTD,
}

// saramaConfig is a sarama configuration for the given protocol version:
// acks=all, manual partitioning, idempotence off.
func saramaConfig(v sarama.KafkaVersion, codec sarama.CompressionCodec) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = v
	cfg.ClientID = "kbroker-itest-sarama"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Compression = codec
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Retry.Max = 10
	cfg.Producer.Retry.Backoff = 250 * time.Millisecond
	cfg.Producer.Timeout = 30 * time.Second
	cfg.Metadata.Retry.Max = 20
	cfg.Metadata.Retry.Backoff = 250 * time.Millisecond
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Net.ReadTimeout = 60 * time.Second
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.MaxWaitTime = 500 * time.Millisecond
	return cfg
}

// saramaMessages builds n messages for partition p of topic: keys (one
// null), compressible values (one null, one empty), headers (one record
// without any), CreateTime timestamps a second apart in the past.
func saramaMessages(topic string, p int32, tag string, n int) []*sarama.ProducerMessage {
	base := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC).UnixMilli()
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		m := &sarama.ProducerMessage{
			Topic:     topic,
			Partition: p,
			Timestamp: time.UnixMilli(base + int64(i)*1000 + int64(i%7)),
		}
		if i != 1 {
			m.Key = sarama.ByteEncoder(fmt.Sprintf("%s-key-%03d", tag, i))
		}
		switch i {
		case 2:
			// null value (tombstone)
		case 3:
			m.Value = sarama.ByteEncoder([]byte{})
		default:
			m.Value = sarama.ByteEncoder(strings.Repeat(fmt.Sprintf("%s value %d; ", tag, i), 20))
		}
		if i != 4 {
			m.Headers = []sarama.RecordHeader{
				{Key: []byte("h-index"), Value: []byte(fmt.Sprint(i))},
				{Key: []byte("h-empty"), Value: []byte{}},
				{Key: []byte("h-tag"), Value: []byte(tag)},
			}
		}
		msgs[i] = m
	}
	return msgs
}

// sentFromSarama turns produced (acknowledged) messages into sentRecords.
func sentFromSarama(t testing.TB, msgs []*sarama.ProducerMessage, keepTimestamp bool) []sentRecord {
	t.Helper()
	out := make([]sentRecord, 0, len(msgs))
	for _, m := range msgs {
		s := sentRecord{Partition: m.Partition, Offset: m.Offset}
		if m.Key != nil {
			s.Key, _ = m.Key.Encode()
		}
		if m.Value != nil {
			s.Value, _ = m.Value.Encode()
		}
		for _, h := range m.Headers {
			s.Headers = append(s.Headers, kgo.RecordHeader{Key: string(h.Key), Value: h.Value})
		}
		if keepTimestamp {
			s.Timestamp = m.Timestamp
		}
		out = append(out, s)
	}
	return out
}

// saramaConsume reads n messages of one partition from offset 0 with a
// sarama PartitionConsumer and returns them as kgo records.
func saramaConsume(t testing.TB, addrs []string, cfg *sarama.Config, topic string, p int32, n int) []*kgo.Record {
	t.Helper()
	consumer, err := sarama.NewConsumer(addrs, cfg)
	if err != nil {
		t.Fatalf("sarama consumer: %v", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("sarama ConsumePartition %s/%d: %v", topic, p, err)
	}
	defer pc.Close()
	var out []*kgo.Record
	timeout := time.After(waitLong)
	for len(out) < n {
		select {
		case m := <-pc.Messages():
			r := &kgo.Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp}
			for _, h := range m.Headers {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: string(h.Key), Value: h.Value})
			}
			out = append(out, r)
		case err := <-pc.Errors():
			t.Logf("sarama consumer %s/%d: %v", topic, p, err)
		case <-timeout:
			t.Fatalf("sarama consumer %s/%d: %d of %d messages within %v", topic, p, len(out), n, waitLong)
		}
	}
	return out
}

func TestSarama(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	addrs := c.BootstrapAddrs()

	// One partition per codec; every test below writes its own topic.
	const perBatch = 25

	t.Run("SyncProducer", func(t *testing.T) {
		topic := "sarama-sync"
		createTopic(t, c, adm, topic, int32(len(saramaCodecs)), 3, nil)
		var sent []sentRecord
		for i, codec := range saramaCodecs {
			cfg := saramaConfig(sarama.V3_9_0_0, codec)
			prod, err := sarama.NewSyncProducer(addrs, cfg)
			if err != nil {
				t.Fatalf("%v: %v", codec, err)
			}
			// Two sends: a batch of messages, then one more on its own.
			msgs := saramaMessages(topic, int32(i), "sync-"+codec.String(), perBatch)
			if err := prod.SendMessages(msgs[:perBatch-1]); err != nil {
				t.Fatalf("%v: SendMessages: %v", codec, err)
			}
			if _, _, err := prod.SendMessage(msgs[perBatch-1]); err != nil {
				t.Fatalf("%v: SendMessage: %v", codec, err)
			}
			prod.Close()
			sent = append(sent, sentFromSarama(t, msgs, true)...)
		}
		checkDenseOffsets(t, sent)
		checkSaramaReadBack(t, addrs, saramaConfig(sarama.V3_9_0_0, sarama.CompressionNone), topic, sent)
		// And once more with franz-go, which also shows each batch's codec.
		got := consumeRange(t, addrs, topic, countByPartition(sent))
		checkRecords(t, sent, got)
		for i, codec := range saramaCodecs {
			for _, r := range got[int32(i)] {
				if int8(r.Attrs.CompressionType()) != int8(codec) {
					t.Errorf("partition %d offset %d: stored with codec %d, produced with %v", i, r.Offset, r.Attrs.CompressionType(), codec)
					break
				}
			}
		}
	})

	t.Run("AsyncProducer", func(t *testing.T) {
		topic := "sarama-async"
		createTopic(t, c, adm, topic, int32(len(saramaCodecs)), 3, nil)
		var sent []sentRecord
		for i, codec := range saramaCodecs {
			cfg := saramaConfig(sarama.V3_9_0_0, codec)
			cfg.Producer.Flush.Messages = 10
			prod, err := sarama.NewAsyncProducer(addrs, cfg)
			if err != nil {
				t.Fatalf("%v: %v", codec, err)
			}
			msgs := saramaMessages(topic, int32(i), "async-"+codec.String(), perBatch)
			for j, m := range msgs {
				m.Metadata = j
				prod.Input() <- m
			}
			acked := make([]*sarama.ProducerMessage, len(msgs))
			timeout := time.After(waitLong)
			for n := 0; n < len(msgs); n++ {
				select {
				case m := <-prod.Successes():
					acked[m.Metadata.(int)] = m
				case perr := <-prod.Errors():
					t.Fatalf("%v: produce error: %v", codec, perr.Err)
				case <-timeout:
					t.Fatalf("%v: %d of %d acknowledgements within %v", codec, n, len(msgs), waitLong)
				}
			}
			prod.AsyncClose()
			for range prod.Successes() {
			}
			sent = append(sent, sentFromSarama(t, acked, true)...)
		}
		checkDenseOffsets(t, sent)
		checkSaramaReadBack(t, addrs, saramaConfig(sarama.V3_9_0_0, sarama.CompressionNone), topic, sent)
	})

	// An old client: protocol versions of Kafka 0.11 (Produce v3, Fetch v5,
	// Metadata v4, no ApiVersions v3).
	t.Run("OldProtocol", func(t *testing.T) {
		topic := "sarama-0-11"
		createTopic(t, c, adm, topic, 2, 3, nil)
		var sent []sentRecord
		for i, codec := range []sarama.CompressionCodec{sarama.CompressionGZIP, sarama.CompressionLZ4} {
			cfg := saramaConfig(sarama.V0_11_0_0, codec)
			prod, err := sarama.NewSyncProducer(addrs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			msgs := saramaMessages(topic, int32(i), "old-"+codec.String(), perBatch)
			if err := prod.SendMessages(msgs); err != nil {
				t.Fatalf("%v: %v", codec, err)
			}
			prod.Close()
			sent = append(sent, sentFromSarama(t, msgs, true)...)
		}
		checkDenseOffsets(t, sent)
		checkSaramaReadBack(t, addrs, saramaConfig(sarama.V0_11_0_0, sarama.CompressionNone), topic, sent)
	})

	// message.timestamp.type=LogAppendTime: the broker stamps each batch
	// with its own clock, tells the producer (LogAppendTime in the
	// produce response) and consumers see that time, not the one sent.
	t.Run("LogAppendTime", func(t *testing.T) {
		topic := "sarama-log-append-time"
		createTopic(t, c, adm, topic, 1, 3, map[string]*string{"message.timestamp.type": kadm.StringPtr("LogAppendTime")})
		cfg := saramaConfig(sarama.V3_9_0_0, sarama.CompressionSnappy)
		prod, err := sarama.NewSyncProducer(addrs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer prod.Close()
		msgs := saramaMessages(topic, 0, "lat", 10)
		sentTimes := make([]time.Time, len(msgs))
		for i, m := range msgs {
			sentTimes[i] = m.Timestamp
		}
		before := time.Now().Truncate(time.Millisecond)
		if err := prod.SendMessages(msgs); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		for i, m := range msgs {
			// sarama replaces the timestamp by the response's LogAppendTime.
			if m.Timestamp.Equal(sentTimes[i]) || m.Timestamp.Before(before) || m.Timestamp.After(after) {
				t.Errorf("message %d: timestamp after produce %v; sent %v; the broker's clock read between %v and %v",
					i, m.Timestamp.UnixMilli(), sentTimes[i].UnixMilli(), before.UnixMilli(), after.UnixMilli())
			}
		}
		sent := sentFromSarama(t, msgs, true) // expect the broker's times
		got := saramaConsume(t, addrs, saramaConfig(sarama.V3_9_0_0, sarama.CompressionNone), topic, 0, len(msgs))
		checkRecords(t, sent, map[int32][]*kgo.Record{0: got})
		kgot := consumeRange(t, addrs, topic, map[int32]int64{0: int64(len(msgs))})
		checkRecords(t, sent, kgot)
		for _, r := range kgot[0] {
			if r.Attrs.TimestampType() != 1 {
				t.Errorf("offset %d: timestamp type %d, want 1 (LogAppendTime)", r.Offset, r.Attrs.TimestampType())
			}
		}
	})
}

// checkDenseOffsets checks that the offsets acknowledged in each partition
// are exactly 0..n-1.
func checkDenseOffsets(t testing.TB, sent []sentRecord) {
	t.Helper()
	seen := map[int32]map[int64]bool{}
	for _, s := range sent {
		if seen[s.Partition] == nil {
			seen[s.Partition] = map[int64]bool{}
		}
		if seen[s.Partition][s.Offset] {
			t.Errorf("offset %d of partition %d acknowledged twice", s.Offset, s.Partition)
		}
		seen[s.Partition][s.Offset] = true
	}
	for p, offs := range seen {
		for o := int64(0); o < int64(len(offs)); o++ {
			if !offs[o] {
				t.Errorf("partition %d: acknowledged offsets are not 0..%d (missing %d)", p, len(offs)-1, o)
				break
			}
		}
	}
}

// checkSaramaReadBack consumes every partition of sent with sarama and
// compares record by record.
func checkSaramaReadBack(t testing.TB, addrs []string, cfg *sarama.Config, topic string, sent []sentRecord) {
	t.Helper()
	got := map[int32][]*kgo.Record{}
	for p, n := range countByPartition(sent) {
		got[p] = saramaConsume(t, addrs, cfg, topic, p, int(n))
	}
	checkRecords(t, sent, got)
	for p, rs := range got {
		for i := 1; i < len(rs); i++ {
			if rs[i].Offset <= rs[i-1].Offset {
				t.Errorf("partition %d: offsets out of order: %d after %d", p, rs[i].Offset, rs[i-1].Offset)
			}
		}
	}
}
