package record

import (
	"encoding/binary"
	"testing"
)

// FuzzSkimMatchesFullIteration checks that skimming the records of a
// compressed batch (validation's way, with keys and values skipped in the
// stream) sees exactly what full decoding sees: the same records, deltas and
// key nullness, and the same Kafka error code when the bytes are bad.
func FuzzSkimMatchesFullIteration(f *testing.F) {
	seed := func(recs []NewRecord) []byte {
		var raw []byte
		for i, r := range recs {
			raw = appendRecord(raw, r, int64(i), int32(i))
		}
		return raw
	}
	f.Add(seed([]NewRecord{{Key: []byte("k"), Value: []byte("v"), Headers: []Header{{Key: "h", Value: []byte("x")}}}, {Value: nil}}), int32(2), uint8(1))
	f.Add(seed([]NewRecord{{Value: make([]byte, 300)}}), int32(1), uint8(4))
	f.Add([]byte{0x10, 0, 0, 0}, int32(3), uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, count int32, codec uint8) {
		c := Compression(1 + codec%4)
		payload, err := Compress(c, raw)
		if err != nil {
			t.Skip()
		}
		spec := NewSpec()
		spec.Compression = c
		b, err := Build(spec, []NewRecord{{Value: []byte("x")}})
		if err != nil {
			t.Fatal(err)
		}
		b = append(b[:HeaderSize:HeaderSize], payload...)
		binary.BigEndian.PutUint32(b[lengthPos:], uint32(len(b)-LogOverhead))
		binary.BigEndian.PutUint32(b[recordCountPos:], uint32(count))
		b.updateCRC()

		type seen struct {
			ts      int64
			off     int32
			keyNull bool
			valNull bool
		}
		walk := func(skim bool) ([]seen, error) {
			it, err := b.Records()
			if err != nil {
				return nil, err
			}
			defer it.Close()
			it.skim = skim
			var out []seen
			for it.Next() {
				r := it.Record()
				out = append(out, seen{r.TimestampDelta, r.OffsetDelta, r.Key == nil, r.Value == nil})
			}
			return out, it.Err()
		}
		full, ferr := walk(false)
		skim, serr := walk(true)
		if CodeOf(ferr) != CodeOf(serr) || (ferr == nil) != (serr == nil) {
			t.Fatalf("full decoding: %v; skimming: %v", ferr, serr)
		}
		if len(full) != len(skim) {
			t.Fatalf("full decoding saw %d records, skimming %d", len(full), len(skim))
		}
		for i := range full {
			if full[i] != skim[i] {
				t.Fatalf("record %d: full %+v, skimmed %+v", i, full[i], skim[i])
			}
		}
	})
}
