package record_test

// Fuzz targets. Run each with
//
//	go test -run='^$' -fuzz='^FuzzSplitAndValidate$' -fuzztime=20s ./record
//	go test -run='^$' -fuzz='^FuzzRecordsIter$' -fuzztime=20s ./record

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/record"
)

// fuzzBatches are valid batches of every codec and flavour.
func fuzzBatches(f *testing.F) [][]byte {
	var out [][]byte
	for _, enc := range allEncodings {
		out = append(out, oracleBatch(f, plainHeader(3, now), enc, seqRecords(3)))
		h := plainHeader(2, now)
		h.Attributes = 0x18 // transactional, LogAppendTime
		h.ProducerID, h.ProducerEpoch, h.FirstSequence = 1, 1, 0
		odd := seqRecords(2)
		odd[1].OffsetDelta = 4
		odd[0].Key = nil
		odd[1].Headers = []kmsg.Header{{Key: "h", Value: nil}}
		out = append(out, oracleBatch(f, h, enc, odd))
	}
	for _, c := range allCodecs {
		s := record.NewSpec()
		s.Compression = c
		b, err := record.Build(s, simpleRecords(5, now))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	m, err := record.BuildEndTxnMarker(1, 0, record.ControlCommit, 3, now)
	if err != nil {
		f.Fatal(err)
	}
	return append(out, m)
}

func FuzzSplitAndValidate(f *testing.F) {
	seeds := fuzzBatches(f)
	var all []byte
	for _, s := range seeds {
		f.Add(s)
		all = append(all, s...)
	}
	f.Add(all)
	f.Add(append(append([]byte{}, seeds[0]...), seeds[1][:30]...))
	f.Add(legacyMessage(f, 1, []byte("k"), []byte("v")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		total, perr := record.Peek(data, 0)
		if perr != nil && record.CodeOf(perr) == nil {
			t.Fatalf("Peek error without a Kafka code: %v", perr)
		}
		b, rest, nerr := record.Next(data, 0)
		switch {
		case nerr != nil:
			if b != nil || record.CodeOf(nerr) == nil || len(rest) != len(data) {
				t.Fatalf("Next: fault %v with batch %d bytes, rest %d", nerr, len(b), len(rest))
			}
		case b != nil:
			if perr != nil || total != len(b) || !bytes.Equal(b, data[:total]) || len(rest) != len(data)-total {
				t.Fatalf("Next cut %d bytes, Peek said %d (%v)", len(b), total, perr)
			}
		default:
			if len(rest) != len(data) {
				t.Fatalf("Next: incomplete, but rest has %d of %d bytes", len(rest), len(data))
			}
		}

		batches, tail, err := record.Split(data)
		if err != nil && record.CodeOf(err) == nil {
			t.Fatalf("Split error without a Kafka code: %v", err)
		}
		sum := tail
		for _, b := range batches {
			sum += len(b)
			if len(b) < 61 || len(b) != int(b.BatchLength())+12 || b.Magic() != 2 {
				t.Fatalf("Split returned a %d-byte batch with length field %d and magic %d", len(b), b.BatchLength(), b.Magic())
			}
		}
		if sum != len(data) {
			t.Fatalf("batches and tail cover %d of %d bytes", sum, len(data))
		}
		for _, b := range batches {
			fuzzCheckBatch(t, b)
			// The same batch with a correct CRC reaches the records.
			fixed := append(record.Batch{}, b...)
			fixCRC(fixed)
			fuzzCheckBatch(t, fixed)
		}
	})
}

func fuzzRules() []record.LeaderRules {
	client := record.DefaultLeaderRules(now)
	coord := record.DefaultLeaderRules(now)
	coord.Origin = record.FromCoordinator
	strict := record.DefaultLeaderRules(now)
	strict.Compacted = true
	strict.TimestampBeforeMaxMs, strict.TimestampAfterMaxMs = 1000, 1000
	strict.MaxBatchBytes = 0
	lat := record.DefaultLeaderRules(now)
	lat.TimestampType = record.LogAppendTime
	return []record.LeaderRules{client, coord, strict, lat}
}

// fuzzCheckBatch runs everything on one batch and checks the invariants.
func fuzzCheckBatch(t *testing.T, b record.Batch) {
	t.Helper()
	if err := b.Verify(); (err == nil) != b.CRCValid() {
		t.Fatalf("Verify %v but CRCValid %v", err, b.CRCValid())
	}
	_ = b.ValidateAsFollower()
	_ = b.LastSequence()

	recs, iterErr := readRecords(b)
	if iterErr != nil && record.CodeOf(iterErr) == nil {
		t.Fatalf("iteration error without a Kafka code: %v", iterErr)
	}
	if iterErr == nil && len(recs) != int(max(b.NumRecords(), 0)) {
		t.Fatalf("iteration ended cleanly after %d of %d records", len(recs), b.NumRecords())
	}
	if len(recs) > int(max(b.NumRecords(), 0)) {
		t.Fatalf("iteration yielded %d records, more than the %d declared", len(recs), b.NumRecords())
	}

	for i, r := range fuzzRules() {
		v, err := b.ValidateAsLeader(r)
		if err != nil {
			var re *record.Error
			if record.CodeOf(err) == nil || !errors.As(err, &re) {
				t.Fatalf("rules %d: error without a Kafka code: %v (%T)", i, err, err)
			}
			continue
		}
		if !b.CRCValid() {
			t.Fatalf("rules %d: accepted a batch with a bad CRC", i)
		}
		if v.Records != b.NumRecords() || iterErr != nil {
			t.Fatalf("rules %d: accepted with %d records, NumRecords %d, iteration error %v", i, v.Records, b.NumRecords(), iterErr)
		}
		if r.Origin == record.FromClient {
			if b.BaseOffset() != 0 || int64(b.LastOffsetDelta())+1 != int64(b.NumRecords()) || b.NumRecords() <= 0 || b.IsControl() ||
				(b.ProducerID() >= 0 && b.BaseSequence() < 0) || !b.Compression().Known() {
				t.Fatalf("rules %d: accepted a client batch that breaks a header rule", i)
			}
		}
		if b.Compression() == record.CompressionNone && v.NeedsRebuild {
			t.Fatalf("rules %d: NeedsRebuild for an uncompressed batch", i)
		}
		if i != 0 {
			continue
		}
		// A batch a client may write can be rebuilt into an equivalent one.
		rb, err := record.Rebuild(b, record.CompressionGzip)
		if err != nil {
			t.Fatalf("Rebuild of an accepted batch: %v", err)
		}
		rv, err := rb.ValidateAsLeader(r)
		if err != nil || rv.Records != v.Records || rv.MaxTimestamp != v.MaxTimestamp || rv.NeedsRebuild {
			t.Fatalf("rebuilt batch validates as %+v, %v; original %+v", rv, err, v)
		}
		again, err := readRecords(rb)
		if err != nil || len(again) != len(recs) {
			t.Fatalf("rebuilt batch: %d records, %v", len(again), err)
		}
		for j := range recs {
			if !sameNullable(again[j].Key, recs[j].Key) || !sameNullable(again[j].Value, recs[j].Value) ||
				len(again[j].Headers) != len(recs[j].Headers) || again[j].OffsetDelta != int32(j) {
				t.Fatalf("rebuilt record %d differs", j)
			}
		}
	}
}

func FuzzRecordsIter(f *testing.F) {
	raws := [][]byte{nil}
	var raw []byte
	for _, r := range seqRecords(4) {
		raw = append(raw, encodeKmsgRecord(r)...)
	}
	raws = append(raws, raw, encodeKmsgRecord(kmsg.Record{Key: nil, Value: nil, Headers: []kmsg.Header{{Key: "k", Value: []byte("v")}}}))
	for _, enc := range allEncodings {
		for _, r := range raws {
			n := int32(0)
			if len(r) > 0 {
				n = 4
				if len(r) < 20 {
					n = 1
				}
			}
			f.Add(byte(enc.codecID()), n, oracleCompress(f, enc, r))
		}
	}
	for id := byte(5); id < 8; id++ {
		f.Add(id, int32(1), raw)
	}
	f.Add(byte(0x08), int32(4), raw) // LogAppendTime
	f.Add(byte(0x21), int32(1), oracleCompress(f, encGzip, raw))
	f.Fuzz(func(t *testing.T, attrs byte, count int32, payload []byte) {
		h := plainHeader(0, now)
		h.NumRecords = count
		h.LastOffsetDelta = count - 1
		h.MaxTimestamp = now + 3*int64(count)
		h.Attributes = int16(attrs)
		h.Magic = 2
		h.Records = payload
		h.Length = int32(49 + len(payload))
		b := record.Batch(h.AppendTo(nil))
		fixCRC(b)

		if batches, tail, err := record.Split(b); err != nil || tail != 0 || len(batches) != 1 {
			t.Fatalf("Split of a well-framed batch: %d batches, tail %d, %v", len(batches), tail, err)
		}
		if !b.CRCValid() || b.Compression() != record.Compression(attrs&7) || b.NumRecords() != count {
			t.Fatal("header read back wrong")
		}
		_, _ = record.Decompress(b.Compression(), payload)
		fuzzCheckBatch(t, b)

		it, err := b.Records()
		if err != nil {
			if record.CodeOf(err) == nil {
				t.Fatalf("Records error without a Kafka code: %v", err)
			}
			return
		}
		defer it.Close()
		n := int32(0)
		for it.Next() {
			r := it.Record()
			if r.Size <= 0 {
				t.Fatalf("record %d has size %d", n, r.Size)
			}
			n++
		}
		if err := it.Err(); err != nil && record.CodeOf(err) == nil {
			t.Fatalf("iteration error without a Kafka code: %v", err)
		}
		if n > max(count, 0) {
			t.Fatalf("%d records from a count of %d", n, count)
		}
	})
}
