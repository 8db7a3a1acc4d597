package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// deserializer renders key, value or header bytes as a Kafka Deserializer
// followed by toString() would.
type deserializer func(b []byte) ([]byte, error)

const serdePkg = "org.apache.kafka.common.serialization."

// deserializers are the Kafka deserializer classes this tool can imitate.
var deserializers = map[string]deserializer{
	serdePkg + "StringDeserializer":    func(b []byte) ([]byte, error) { return []byte(javaUTF8(b)), nil },
	serdePkg + "ByteArrayDeserializer": func(b []byte) ([]byte, error) { return b, nil },
	serdePkg + "BytesDeserializer":     func(b []byte) ([]byte, error) { return []byte(bytesToString(b)), nil },
	serdePkg + "ShortDeserializer":     fixedInt("ShortDeserializer", 2),
	serdePkg + "IntegerDeserializer":   fixedInt("IntegerDeserializer", 4),
	serdePkg + "LongDeserializer":      fixedInt("LongDeserializer", 8),
}

// fixedInt is the Short/Integer/LongDeserializer: a big-endian signed integer
// of exactly size bytes.
func fixedInt(name string, size int) deserializer {
	return func(b []byte) ([]byte, error) {
		if len(b) != size {
			return nil, cli.Messagef("Size of data received by %s is not %d", name, size)
		}
		var v int64
		switch size {
		case 2:
			v = int64(int16(binary.BigEndian.Uint16(b)))
		case 4:
			v = int64(int32(binary.BigEndian.Uint32(b)))
		default:
			v = int64(binary.BigEndian.Uint64(b))
		}
		return []byte(strconv.FormatInt(v, 10)), nil
	}
}

// javaUTF8 decodes b as Java's UTF-8 decoder does, each malformed byte
// becoming U+FFFD.
func javaUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r) // RuneError is U+FFFD
		b = b[n:]
	}
	return sb.String()
}

// bytesToString is org.apache.kafka.common.utils.Bytes.toString: printable
// ASCII as is (except '\'), everything else as \xNN.
func bytesToString(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= ' ' && c <= '~' && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\x%02X", c)
		}
	}
	return sb.String()
}

// formatter is Kafka 3.9's DefaultMessageFormatter.
type formatter struct {
	printTimestamp, printKey, printValue, printPartition, printOffset, printHeaders bool

	keySep, lineSep, headersSep, nullLiteral []byte

	keyDeser, valueDeser, headersDeser deserializer // nil: the bytes as they are
}

func newFormatter(p cli.Props) (*formatter, error) {
	f := &formatter{printValue: true, keySep: []byte("\t"), lineSep: []byte("\n"), headersSep: []byte(","), nullLiteral: []byte("null")}
	for key, dst := range map[string]*bool{
		"print.timestamp": &f.printTimestamp, "print.key": &f.printKey, "print.offset": &f.printOffset,
		"print.partition": &f.printPartition, "print.headers": &f.printHeaders, "print.value": &f.printValue,
	} {
		if v, ok := p[key]; ok {
			*dst = strings.EqualFold(strings.TrimSpace(v), "true")
		}
	}
	for key, dst := range map[string]*[]byte{
		"key.separator": &f.keySep, "line.separator": &f.lineSep, "headers.separator": &f.headersSep, "null.literal": &f.nullLiteral,
	} {
		if v, ok := p[key]; ok {
			*dst = []byte(v)
		}
	}
	for key, dst := range map[string]*deserializer{
		"key.deserializer": &f.keyDeser, "value.deserializer": &f.valueDeser, "headers.deserializer": &f.headersDeser,
	} {
		name, ok := p[key]
		if !ok {
			continue
		}
		d, known := deserializers[name]
		if !known {
			return nil, cli.Messagef("%s: %s %s is not supported; available: %sStringDeserializer, ByteArrayDeserializer, BytesDeserializer, ShortDeserializer, IntegerDeserializer, LongDeserializer", toolName, key, name, serdePkg)
		}
		*dst = d
	}
	return f, nil
}

// render applies a deserializer; null bytes are first replaced by the null
// literal, as Kafka's formatter does.
func (f *formatter) render(d deserializer, b []byte) ([]byte, error) {
	if b == nil {
		b = f.nullLiteral
	}
	if d == nil {
		return b, nil
	}
	return d(b)
}

// format appends the record's text to buf, field by field in Kafka's order:
// timestamp, partition, offset, headers, key, value; the key separator
// between fields and the line separator after the last one.
func (f *formatter) format(buf []byte, r *kgo.Record) ([]byte, error) {
	sep := func(more bool) {
		if more {
			buf = append(buf, f.keySep...)
		} else {
			buf = append(buf, f.lineSep...)
		}
	}
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 0:
			buf = append(buf, "CreateTime:"...)
			buf = strconv.AppendInt(buf, r.Timestamp.UnixMilli(), 10)
		case 1:
			buf = append(buf, "LogAppendTime:"...)
			buf = strconv.AppendInt(buf, r.Timestamp.UnixMilli(), 10)
		default:
			buf = append(buf, "NO_TIMESTAMP"...)
		}
		sep(f.printPartition || f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printPartition {
		buf = append(buf, "Partition:"...)
		buf = strconv.AppendInt(buf, int64(r.Partition), 10)
		sep(f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printOffset {
		buf = append(buf, "Offset:"...)
		buf = strconv.AppendInt(buf, r.Offset, 10)
		sep(f.printHeaders || f.printKey || f.printValue)
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			buf = append(buf, "NO_HEADERS"...)
		}
		for i, h := range r.Headers {
			buf = append(buf, h.Key...)
			buf = append(buf, ':')
			v, err := f.render(f.headersDeser, h.Value)
			if err != nil {
				return nil, err
			}
			buf = append(buf, v...)
			if i < len(r.Headers)-1 {
				buf = append(buf, f.headersSep...)
			}
		}
		sep(f.printKey || f.printValue)
	}
	if f.printKey {
		k, err := f.render(f.keyDeser, r.Key)
		if err != nil {
			return nil, err
		}
		buf = append(buf, k...)
		sep(f.printValue)
	}
	if f.printValue {
		v, err := f.render(f.valueDeser, r.Value)
		if err != nil {
			return nil, err
		}
		buf = append(buf, v...)
		buf = append(buf, f.lineSep...)
	}
	return buf, nil
}

// write formats r onto w.
func (f *formatter) write(w io.Writer, r *kgo.Record) error {
	b, err := f.format(nil, r)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
