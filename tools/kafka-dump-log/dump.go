package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kbroker/kbroker/segment"
)

// Suffixes Kafka dispatches on besides the segment files'.
const (
	snapshotSuffix       = ".snapshot"   // producer state (LogFileUtils.PRODUCER_SNAPSHOT_FILE_SUFFIX)
	kraftSnapshotSuffix  = ".checkpoint" // KRaft snapshot (Snapshots.SUFFIX)
	kraftBootstrapName   = "bootstrap.checkpoint"
	deprecatedDecoderPkg = "kafka.serializer."
)

// dumper holds the state of one run: the writers and the problems found so
// far, which are printed after every file has been dumped.
type dumper struct {
	out  *bufio.Writer
	errw io.Writer
	opts *options

	valueDec, keyDec decoder

	indexMismatches   pairLists // .index entries whose batch has another last offset
	timeMismatches    pairLists // time index timestamp vs the batch's max timestamp
	timeOutOfOrder    pairLists
	timeShallowAbsent pairLists // indexed offsets that are no batch's last offset
	nonConsecutive    pairLists // record offsets that do not follow each other
}

func (d *dumper) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

// eprintf writes to stderr after flushing stdout, so that a terminal shows
// both streams in the order they were produced.
func (d *dumper) eprintf(format string, args ...any) {
	d.out.Flush()
	fmt.Fprintf(d.errw, format, args...)
}

func (d *dumper) main(args []string) int {
	set, err := parseArgs(args)
	if err != nil {
		d.exception(err)
		return 1
	}
	if len(args) == 0 || set.has["help"] {
		d.usage(helpMessage)
		return 1
	}
	if set.has["version"] {
		d.printf("%s\n", kafkaVersion)
		return 0
	}
	if !set.has["files"] {
		d.usage(`Missing required argument "[files]"`)
		return 1
	}
	if d.opts, err = newOptions(set); err != nil {
		d.exception(err)
		return 1
	}
	d.valueDec = d.pickDecoder("value-decoder-class", d.opts.valueDecoder)
	d.keyDec = d.pickDecoder("key-decoder-class", d.opts.keyDecoder)
	for _, name := range []string{"offsets-decoder", "transaction-log-decoder", "cluster-metadata-decoder", "remote-log-metadata-decoder"} {
		if set.has[name] {
			d.eprintf("kafka-dump-log: --%s is not supported by this tool; records are printed with %s\n",
				name, stringDecoderClass)
		}
	}

	for _, arg := range javaSplit(d.opts.files, ",") {
		file := newJFile(arg)
		d.printf("Dumping %s\n", file)
		if err := d.dumpFile(file); err != nil {
			d.exception(err)
			return 1
		}
	}
	d.printSummaries()
	return 0
}

func (d *dumper) usage(msg string) {
	d.eprintf("%s\n%s", msg, helpText())
}

// exception reports what Kafka's tool would die of, as the JVM's first line
// of an uncaught exception.
func (d *dumper) exception(err error) {
	var je *javaError
	if !errors.As(err, &je) {
		je = jerr("java.io.IOException", "%s", err.Error())
	}
	d.eprintf("Exception in thread \"main\" %s\n", je.Error())
}

// dumpFile dispatches on the part of the name after its last dot, as Kafka
// does. A name without a dot is reported as unknown (Kafka's tool dies on
// it with StringIndexOutOfBoundsException).
func (d *dumper) dumpFile(file jfile) error {
	name := file.Name()
	suffix := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		suffix = name[i:]
	}
	switch suffix {
	case segment.LogSuffix, kraftSnapshotSuffix:
		return d.dumpLog(file)
	case segment.IndexSuffix:
		return d.dumpIndex(file)
	case segment.TimeIndexSuffix:
		return d.dumpTimeIndex(file)
	case snapshotSuffix:
		return d.dumpProducerSnapshot(file)
	case segment.TxnIndexSuffix:
		return d.dumpTxnIndex(file)
	}
	d.eprintf("Ignoring unknown file %s\n", file)
	return nil
}

func (d *dumper) printSummaries() {
	d.indexMismatches.each(func(file string, pairs [][2]int64) {
		d.eprintf("Mismatches in :%s\n", file)
		for _, p := range pairs {
			d.eprintf("  Index offset: %d, log offset: %d\n", p[0], p[1])
		}
	})
	d.timeMismatches.each(func(file string, pairs [][2]int64) {
		d.eprintf("Found timestamp mismatch in :%s\n", file)
		for _, p := range pairs {
			d.eprintf("  Index timestamp: %d, log timestamp: %d\n", p[0], p[1])
		}
	})
	d.timeOutOfOrder.each(func(file string, pairs [][2]int64) {
		d.eprintf("Found out of order timestamp in :%s\n", file)
		for _, p := range pairs {
			d.eprintf("  Index timestamp: %d, Previously indexed timestamp: %d\n", p[0], p[1])
		}
	})
	d.timeShallowAbsent.each(func(_ string, pairs [][2]int64) {
		d.eprintf("The following indexed offsets are not found in the log.\n")
		for _, p := range pairs {
			d.eprintf("Indexed offset: %d, found log offset: %d\n", p[0], p[1])
		}
	})
	d.nonConsecutive.each(func(file string, pairs [][2]int64) {
		d.eprintf("Non-consecutive offsets in %s\n", file)
		for _, p := range pairs {
			d.eprintf("  %d is followed by %d\n", p[0], p[1])
		}
	})
}

// pairLists maps a file path to pairs of numbers, keeping files in the order
// they were first seen (Kafka keeps them in a hash map, whose order is not
// specified).
type pairLists struct {
	keys []string
	m    map[string][][2]int64
}

func (p *pairLists) add(file string, a, b int64, prepend bool) {
	if p.m == nil {
		p.m = map[string][][2]int64{}
	}
	list, ok := p.m[file]
	if !ok {
		p.keys = append(p.keys, file)
	}
	if prepend { // Kafka conses onto an immutable List: newest first
		list = append([][2]int64{{a, b}}, list...)
	} else {
		list = append(list, [2]int64{a, b})
	}
	p.m[file] = list
}

func (p *pairLists) each(fn func(file string, pairs [][2]int64)) {
	for _, k := range p.keys {
		fn(k, p.m[k])
	}
}

// decoder turns key or value bytes into text like Kafka's Decoder classes.
type decoder int

const (
	stringDecoder decoder = iota
	integerDecoder
	longDecoder
)

var decoderClasses = map[string]decoder{
	"org.apache.kafka.tools.api.StringDecoder":  stringDecoder,
	"org.apache.kafka.tools.api.IntegerDecoder": integerDecoder,
	"org.apache.kafka.tools.api.LongDecoder":    longDecoder,
}

func (d *dumper) pickDecoder(option, class string) decoder {
	if dec, ok := decoderClasses[class]; ok {
		return dec
	}
	if strings.HasPrefix(class, deprecatedDecoderPkg) {
		if dec, ok := decoderClasses["org.apache.kafka.tools.api."+strings.TrimPrefix(class, deprecatedDecoderPkg)]; ok {
			return dec
		}
	}
	d.eprintf("kafka-dump-log: --%s %s is not supported by this tool (only StringDecoder, IntegerDecoder and LongDecoder are); using %s\n",
		option, class, stringDecoderClass)
	return stringDecoder
}

// announceDeprecatedDecoders prints what Kafka prints on stdout each time it
// builds the message parser (once per dumped .log) for a decoder given by
// its old kafka.serializer name.
func (d *dumper) announceDeprecatedDecoders() {
	for _, class := range []string{d.opts.valueDecoder, d.opts.keyDecoder} {
		short, ok := strings.CutPrefix(class, deprecatedDecoderPkg)
		if !ok {
			continue
		}
		switch short {
		case "StringDecoder", "LongDecoder", "IntegerDecoder", "DefaultDecoder":
			d.printf("%s is deprecated. Please use org.apache.kafka.tools.api.%s instead\n", class, short)
		}
	}
}

func (dec decoder) decode(b []byte) (string, error) {
	switch dec {
	case integerDecoder:
		if len(b) < 4 {
			return "", jerrNoMsg("java.nio.BufferUnderflowException")
		}
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(b))), 10), nil
	case longDecoder:
		if len(b) < 8 {
			return "", jerrNoMsg("java.nio.BufferUnderflowException")
		}
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10), nil
	}
	return javaString(b), nil
}
