package main

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// recordOverhead is a generous bound on what a record batch adds to one
// record's value: the 61-byte batch header plus the record's own varints,
// attributes and header count.
const recordOverhead = 61 + 32

func intProp(p cli.Props, key string, def int64, typ string) (int64, error) {
	v, ok := p.Take(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || (typ == "INT" && (n < math.MinInt32 || n > math.MaxInt32)) {
		return 0, cli.Messagef("Invalid value %s for configuration %s: Not a number of type %s", v, key, typ)
	}
	return n, nil
}

func isTrue(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }

// producerOpts translates the producer properties that have a kgo
// counterpart, with the Java producer's defaults (Kafka 3.9), and removes
// them from p; request.timeout.ms, retry.backoff.ms, metadata.max.age.ms and
// client.id stay for cli.NewClient. maxValue is the largest value the run
// sends.
//
//	acks                                  all (-1), 1, 0; default all
//	enable.idempotence                    default true with acks=all, else false
//	compression.type                      none, gzip, snappy, lz4, zstd; default none
//	linger.ms                             default 0
//	batch.size                            the most bytes of one partition's batch; default 16384;
//	                                      a record larger than that goes in a batch of its own
//	max.request.size                      the largest record; default 1048576
//	buffer.memory                         bytes of records buffered before sends block; default 32 MiB
//	max.in.flight.requests.per.connection default 5 (kgo allows it only without idempotence)
//	retries, delivery.timeout.ms          default 2147483647 and 120000
func producerOpts(p cli.Props, maxValue int) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.AllowAutoTopicCreation()} // Java producers ask brokers to auto-create

	acks, ok := p.Take("acks")
	if !ok {
		acks = "all"
	}
	switch strings.TrimSpace(strings.ToLower(acks)) {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
		acks = "all"
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	default:
		return nil, cli.Messagef("Invalid value %s for configuration acks: String must be one of: all, -1, 0, 1", acks)
	}
	idem, idemSet := p.Take("enable.idempotence")
	idempotent := acks == "all" && (!idemSet || isTrue(idem))
	if idemSet && isTrue(idem) && acks != "all" {
		return nil, cli.Messagef("%s", "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.")
	}
	inflight, err := intProp(p, "max.in.flight.requests.per.connection", 5, "INT")
	if err != nil {
		return nil, err
	}
	if inflight < 1 {
		return nil, cli.Messagef("Invalid value %d for configuration max.in.flight.requests.per.connection: Value must be at least 1", inflight)
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(int(inflight)))
	}

	codec, ok := p.Take("compression.type")
	if !ok {
		codec = "none"
	}
	switch strings.TrimSpace(codec) {
	case "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		return nil, cli.Messagef("Invalid value %s for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd", codec)
	}

	linger, err := intProp(p, "linger.ms", 0, "LONG")
	if err != nil {
		return nil, err
	}
	if linger < 0 {
		return nil, cli.Messagef("Invalid value %d for configuration linger.ms: Value must be at least 0", linger)
	}
	opts = append(opts, kgo.ProducerLinger(time.Duration(linger)*time.Millisecond))

	batchSize, err := intProp(p, "batch.size", 16384, "INT")
	if err != nil {
		return nil, err
	}
	if batchSize < 0 {
		return nil, cli.Messagef("Invalid value %d for configuration batch.size: Value must be at least 0", batchSize)
	}
	maxReq, err := intProp(p, "max.request.size", 1048576, "INT")
	if err != nil {
		return nil, err
	}
	need := int64(maxValue) + recordOverhead
	if need > maxReq {
		return nil, cli.Messagef("The message is %d bytes when serialized which is larger than %d, which is the value of the max.request.size configuration.", need, maxReq)
	}
	// kgo's batch cap is the Java batch.size, raised (as Java puts a record
	// larger than batch.size in a batch of its own) so the largest record
	// fits, and never below kgo's minimum of 512.
	opts = append(opts, kgo.ProducerBatchMaxBytes(int32(max(batchSize, need, 512))))
	// The Java producer's built-in partitioner for records without keys:
	// sticky, moving on after batch.size bytes, adaptive to slow brokers.
	opts = append(opts, kgo.RecordPartitioner(kgo.UniformBytesPartitioner(int(max(batchSize, 1)), true, true, nil)))

	buffer, err := intProp(p, "buffer.memory", 33554432, "LONG")
	if err != nil {
		return nil, err
	}
	if buffer < need {
		return nil, cli.Messagef("The message is %d bytes when serialized which is larger than the total memory buffer you have configured with the buffer.memory configuration.", need)
	}
	// Java bounds the buffer by bytes only; kgo also counts records (50,000
	// by default), which would throttle small records long before 32 MiB.
	opts = append(opts, kgo.MaxBufferedBytes(int(buffer)), kgo.MaxBufferedRecords(math.MaxInt32))

	retries, err := intProp(p, "retries", math.MaxInt32, "INT")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.RecordRetries(int(retries)))
	delivery, err := intProp(p, "delivery.timeout.ms", 120000, "INT")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.RecordDeliveryTimeout(time.Duration(delivery)*time.Millisecond))
	if v, ok := p["request.timeout.ms"]; ok { // also read by cli.NewClient
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n <= 0 {
			return nil, cli.Messagef("Invalid value %s for configuration request.timeout.ms: Not a number of type INT", v)
		}
		opts = append(opts, kgo.ProduceRequestTimeout(time.Duration(n)*time.Millisecond))
	}
	// Accepted with no kgo counterpart: the tool sets byte-array
	// serializers itself, sends never block on metadata, socket buffers are
	// the operating system's.
	for _, k := range []string{"key.serializer", "value.serializer", "max.block.ms", "send.buffer.bytes", "receive.buffer.bytes"} {
		p.Take(k)
	}
	return opts, nil
}
