package netserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// makeBatch encodes a valid record batch v2 (length and CRC-32C filled in)
// with n records of valueSize random bytes each.
func makeBatch(rng *rand.Rand, baseOffset int64, n, valueSize int) []byte {
	var recs []byte
	for i := range n {
		v := make([]byte, valueSize)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		r := kmsg.Record{OffsetDelta: int32(i), Key: []byte(fmt.Sprintf("k%d", i)), Value: v}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // body size; Length 0 took one byte
		recs = r.AppendTo(recs)
	}
	b := kmsg.RecordBatch{
		FirstOffset: baseOffset, Magic: 2, LastOffsetDelta: int32(n - 1),
		FirstTimestamp: 1700000000000, MaxTimestamp: 1700000000000,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(n), Records: recs,
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// checkBatches parses records as concatenated batches and checks CRCs.
func checkBatches(t *testing.T, records []byte, wantBatches int) {
	t.Helper()
	n := 0
	for len(records) > 0 {
		if len(records) < 12 {
			t.Fatalf("trailing %d bytes", len(records))
		}
		l := 12 + int(binary.BigEndian.Uint32(records[8:]))
		var b kmsg.RecordBatch
		if err := b.ReadFrom(records[:l]); err != nil {
			t.Fatalf("batch %d: %v", n, err)
		}
		if uint32(b.CRC) != crc32.Checksum(records[21:l], crc32.MakeTable(crc32.Castagnoli)) {
			t.Fatalf("batch %d: CRC mismatch", n)
		}
		records = records[l:]
		n++
	}
	if n != wantBatches {
		t.Fatalf("%d batches, want %d", n, wantBatches)
	}
}

func writeTemp(t testing.TB, name string, parts ...[]byte) (*os.File, []byte) {
	t.Helper()
	all := bytes.Join(parts, nil)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, all, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, all
}

// readerAtOnly hides everything but ReadAt (forces the copy path).
type readerAtOnly struct{ f *os.File }

func (r readerAtOnly) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }

// noStat allows sendfile but hides Stat (no early size check).
type noStat struct{ f *os.File }

func (r noStat) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r noStat) SyscallConn() (syscall.RawConn, error)   { return r.f.SyscallConn() }
func (r noStat) Name() string                            { return r.f.Name() }
func fetchReq(version int16, topics ...string) *kmsg.FetchRequest {
	return fetchRequest(version, topics)
}

func fetchRequest(version int16, topics []string) *kmsg.FetchRequest {
	r := kmsg.NewPtrFetchRequest()
	r.Version = version
	r.ReplicaID = -1
	r.MaxBytes = 1 << 30
	for i, tn := range topics {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = tn
		rt.TopicID = [16]byte{byte(i + 1)}
		for p := int32(0); p < 4; p++ {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition = p
			rp.PartitionMaxBytes = 1 << 30
			rt.Partitions = append(rt.Partitions, rp)
		}
		r.Topics = append(r.Topics, rt)
	}
	return r
}

type fileRange struct {
	f    io.ReaderAt
	off  int64
	size int64
}

// fetchHandler answers every Fetch partition with the range that
// ranges[topic][partition] names (nil: empty Records, no file), through
// placeholders, and counts Release calls.
func fetchHandler(ranges map[string]map[int32]*fileRange, released *atomic.Int32) func(context.Context, *Request) *Response {
	return func(ctx context.Context, req *Request) *Response {
		m, ok := req.Msg.(*kmsg.FetchRequest)
		if !ok {
			return (&fakeHandler{}).echo(req)
		}
		resp := m.ResponseKind().(*kmsg.FetchResponse)
		out := &Response{Msg: resp}
		for _, t := range m.Topics {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			if t.Topic == "" { // v13+: by topic id, see fetchRequest
				t.Topic = string(rune('a' + t.TopicID[0] - 1))
			}
			for _, p := range t.Partitions {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition = p.Partition
				rp.HighWatermark = 1000 + int64(p.Partition)
				rp.RecordBatches = []byte{}
				if fr := ranges[t.Topic][p.Partition]; fr != nil {
					ph := NewPlaceholder()
					rp.RecordBatches = ph
					out.Files = append(out.Files, FileData{Placeholder: ph, File: fr.f, Offset: fr.off, Size: fr.size,
						Release: func() { released.Add(1) }})
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		// Reverse the file list: the server must not depend on its order.
		for i, j := 0, len(out.Files)-1; i < j; i, j = i+1, j-1 {
			out.Files[i], out.Files[j] = out.Files[j], out.Files[i]
		}
		return out
	}
}

func TestSendfileSplicing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b0 := makeBatch(rng, 0, 3, 100)
	b1 := makeBatch(rng, 3, 1, 2<<20) // 2 MiB: many sendfile rounds (EAGAIN) with a 100 KiB socket buffer
	b2 := makeBatch(rng, 4, 5, 10)
	b3 := makeBatch(rng, 9, 2, 50)
	f1, all1 := writeTemp(t, "00000000000000000000.log", b0, b1, b2)
	f2, all2 := writeTemp(t, "00000000000000000009.log", b3)

	for _, mode := range []string{"sendfile", "copy", "readerat", "auto"} {
		t.Run(mode, func(t *testing.T) {
			var src1, src2 io.ReaderAt = f1, f2
			if mode == "readerat" {
				src1, src2 = readerAtOnly{f1}, readerAtOnly{f2}
			}
			ranges := map[string]map[int32]*fileRange{
				"a": {
					0: {src1, 0, int64(len(b0))},                        // batch 0
					1: {src1, int64(len(b0)), int64(len(b1) + len(b2))}, // batches 1-2
					3: {src1, int64(len(b0) + len(b1) + len(b2)), 0},    // empty range
				},
				"b": {2: {src2, 0, int64(len(b3))}},
			}
			want := map[string]map[int32][]byte{
				"a": {0: all1[:len(b0)], 1: all1[len(b0):], 2: {}, 3: {}},
				"b": {0: {}, 1: {}, 2: all2, 3: {}},
			}
			batches := map[string]map[int32]int{"a": {0: 1, 1: 2}, "b": {2: 1}}
			var released atomic.Int32
			h := &fakeHandler{}
			h.setFn(fetchHandler(ranges, &released))
			s := startServer(t, h, func(c *Config) { c.SendBufferBytes = 1 << 20 })
			switch mode {
			case "copy":
				s.sendfilePolicy.Store(sendfileNever)
			case "sendfile", "readerat":
				s.sendfilePolicy.Store(sendfileAlways)
			}
			c := dial(t, s, "PLAINTEXT")
			calls := int32(0)
			for _, v := range []int16{4, 11, 12, 13, 16} {
				req := fetchReq(v, "a", "b")
				resp := c.roundTrip(req).(*kmsg.FetchResponse)
				calls += 4
				if len(resp.Topics) != 2 {
					t.Fatalf("v%d: %d topics", v, len(resp.Topics))
				}
				for ti, rt := range resp.Topics {
					name := []string{"a", "b"}[ti]
					if v < 13 && rt.Topic != name || v >= 13 && rt.TopicID != [16]byte{byte(ti + 1)} {
						t.Fatalf("v%d: topic %d is %q %x", v, ti, rt.Topic, rt.TopicID)
					}
					for _, p := range rt.Partitions {
						if p.HighWatermark != 1000+int64(p.Partition) {
							t.Fatalf("v%d %s/%d: high watermark %d: fields around the records are shifted", v, name, p.Partition, p.HighWatermark)
						}
						if !bytes.Equal(p.RecordBatches, want[name][p.Partition]) {
							t.Fatalf("v%d %s/%d: %d record bytes differ from the file range (%d bytes)",
								v, name, p.Partition, len(p.RecordBatches), len(want[name][p.Partition]))
						}
						if p.RecordBatches == nil {
							t.Fatalf("v%d %s/%d: null records", v, name, p.Partition)
						}
						checkBatches(t, p.RecordBatches, batches[name][p.Partition])
					}
				}
				waitFor(t, "files to be released", func() bool { return released.Load() == calls })
			}
			st := s.Stats()
			if mode == "sendfile" && st.SendfileBytes < uint64(5*len(all1)) {
				t.Fatalf("only %d bytes went through sendfile", st.SendfileBytes)
			}
			// auto: a loopback client gets copies (see sameHost)
			if mode != "sendfile" && st.SendfileBytes != 0 {
				t.Fatalf("%d bytes went through sendfile in mode %s", st.SendfileBytes, mode)
			}
			// The files' shared positions were never used.
			if pos, _ := f1.Seek(0, io.SeekCurrent); pos != 0 {
				t.Fatalf("file position moved to %d", pos)
			}
		})
	}
}

// TestShortFileClosesConnection: a range past the end of the file (a
// truncated segment) must close the connection rather than send a short
// frame, whichever path sends the file.
func TestShortFileClosesConnection(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := makeBatch(rng, 0, 2, 300)
	f, _ := writeTemp(t, "short.log", b)
	for _, tc := range []struct {
		name  string
		file  io.ReaderAt
		early bool // detected before any byte is written
	}{
		{"stat", f, true},
		{"sendfile", noStat{f}, false},
		{"readat", readerAtOnly{f}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var released atomic.Int32
			ranges := map[string]map[int32]*fileRange{"a": {1: {tc.file, 10, int64(len(b))}}}
			h := &fakeHandler{}
			h.setFn(fetchHandler(ranges, &released))
			s := startServer(t, h, nil)
			s.sendfilePolicy.Store(sendfileAlways)
			other := dial(t, s, "PLAINTEXT")
			c := dial(t, s, "PLAINTEXT")
			c.send(fetchReq(12, "a"))
			_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(c.conn)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("read: %v", err)
			}
			if tc.early && len(got) != 0 {
				t.Fatalf("%d bytes written before the short file was noticed", len(got))
			}
			if len(got) >= 4 && int(binary.BigEndian.Uint32(got)) <= len(got)-4 {
				t.Fatalf("a complete frame of %d bytes arrived", len(got))
			}
			waitFor(t, "the file to be released", func() bool { return released.Load() == 1 })
			checkMetadataEcho(t, other.roundTrip(metadataReq(1, "x")), other.corr, clientID, "x")
		})
	}
}

// TestSpliceErrorsCloseConnection: a placeholder missing from the message,
// or not a whole bytes field of its own, closes the connection.
func TestSpliceErrorsCloseConnection(t *testing.T) {
	f, _ := writeTemp(t, "x.log", []byte("0123456789"))
	for _, tc := range []string{"missing", "inside a larger field"} {
		t.Run(tc, func(t *testing.T) {
			var released atomic.Int32
			h := &fakeHandler{}
			h.setFn(func(ctx context.Context, req *Request) *Response {
				resp := req.Msg.ResponseKind().(*kmsg.MetadataResponse)
				ph := NewPlaceholder()
				if tc == "inside a larger field" {
					b := kmsg.NewMetadataResponseBroker()
					b.Host = "host-" + string(ph)
					resp.Brokers = append(resp.Brokers, b)
				}
				return &Response{Msg: resp, Files: []FileData{{Placeholder: ph, File: f, Size: 5, Release: func() { released.Add(1) }}}}
			})
			s := startServer(t, h, nil)
			c := dial(t, s, "PLAINTEXT")
			c.send(metadataReq(1))
			c.expectClosed()
			waitFor(t, "the file to be released", func() bool { return released.Load() == 1 })
		})
	}
}

func TestSplice(t *testing.T) {
	ph1, ph2 := NewPlaceholder(), NewPlaceholder()
	if !bytes.HasPrefix(ph1, []byte(PlaceholderPrefix)) || len(ph1) != PlaceholderSize || bytes.Equal(ph1, ph2) {
		t.Fatalf("placeholders %x %x", ph1, ph2)
	}
	build := func(compact bool, parts ...[]byte) []byte {
		b := []byte{0, 0, 0, 0, 9, 9, 9, 9}
		for _, p := range parts {
			b = appendLenPrefix(b, int64(len(p)), compact)
			b = append(b, p...)
		}
		return b
	}
	for _, compact := range []bool{false, true} {
		frame := build(compact, []byte("hdr"), ph1, []byte("mid"), ph2, []byte("end"))
		sp, err := splice(frame, 8, []FileData{{Placeholder: ph2, Size: 300}, {Placeholder: ph1, Size: 7}}, compact)
		if err != nil {
			t.Fatal(err)
		}
		// Reassemble with fake file contents and compare with a
		// direct encoding of the same fields.
		var got []byte
		for _, ch := range sp.chunks {
			if ch.file != nil {
				got = append(got, bytes.Repeat([]byte{'F'}, int(ch.file.Size))...)
			} else {
				got = append(got, ch.data...)
			}
		}
		want := build(compact, []byte("hdr"), bytes.Repeat([]byte{'F'}, 7), []byte("mid"), bytes.Repeat([]byte{'F'}, 300), []byte("end"))
		binary.BigEndian.PutUint32(want, uint32(len(want)-4))
		if !bytes.Equal(got, want) || sp.length != int64(len(want)-4) {
			t.Fatalf("compact=%v:\n got %x\nwant %x", compact, got, want)
		}
	}
	bad := []struct {
		name  string
		frame []byte
		files []FileData
	}{
		{"missing", build(false, ph1), []FileData{{Placeholder: ph2}}},
		{"twice", build(false, ph1, ph1), []FileData{{Placeholder: ph1}}},
		{"wrong prefix", build(true, ph1), []FileData{{Placeholder: ph1}}},
		{"empty placeholder", build(false, ph1), []FileData{{}}},
		{"negative size", build(false, ph1), []FileData{{Placeholder: ph1, Size: -1}}},
		{"too large", build(false, ph1), []FileData{{Placeholder: ph1, Size: 1 << 31}}},
	}
	for _, tc := range bad {
		if _, err := splice(tc.frame, 8, tc.files, false); !errors.Is(err, errSplice) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}
