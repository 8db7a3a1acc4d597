package main

import (
	"bufio"
	"io"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// lineParser turns input lines into records as Kafka's LineMessageReader
// does: optionally headers first (up to headers.delimiter), then optionally
// a key (up to key.separator), then the value, the rest of the line.
type lineParser struct {
	topic         string
	parseKey      bool
	keySep        string
	parseHeaders  bool
	headersDelim  string
	headersSep    *regexp.Regexp // a regular expression, as in Kafka
	headersKeySep string
	ignoreError   bool
	nullMarker    *string
}

func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// newLineParser is LineMessageReader.configure, with its checks and
// messages.
func newLineParser(topic string, p cli.Props) (*lineParser, error) {
	lp := &lineParser{topic: topic, keySep: "\t", headersDelim: "\t", headersKeySep: ":"}
	headersSep := ","
	if v, ok := p["parse.key"]; ok {
		lp.parseKey = isTrue(v)
	}
	if v, ok := p["key.separator"]; ok {
		lp.keySep = v
	}
	if v, ok := p["parse.headers"]; ok {
		lp.parseHeaders = isTrue(v)
	}
	if v, ok := p["headers.delimiter"]; ok {
		lp.headersDelim = v
	}
	if v, ok := p["headers.separator"]; ok {
		headersSep = v
	}
	re, err := regexp.Compile(headersSep)
	if err != nil {
		return nil, cli.Messagef("headers.separator %q is not a valid regular expression: %v", headersSep, err)
	}
	lp.headersSep = re
	if v, ok := p["headers.key.separator"]; ok {
		lp.headersKeySep = v
	}
	if v, ok := p["ignore.error"]; ok {
		lp.ignoreError = isTrue(v)
	}
	switch {
	case lp.headersDelim == headersSep:
		return nil, cli.Messagef("%s", "headers.delimiter and headers.separator may not be equal")
	case lp.headersDelim == lp.headersKeySep:
		return nil, cli.Messagef("%s", "headers.delimiter and headers.key.separator may not be equal")
	case headersSep == lp.headersKeySep:
		return nil, cli.Messagef("%s", "headers.separator and headers.key.separator may not be equal")
	}
	if v, ok := p["null.marker"]; ok {
		lp.nullMarker = &v
		switch v {
		case lp.keySep:
			return nil, cli.Messagef("%s", "null.marker and key.separator may not be equal")
		case headersSep:
			return nil, cli.Messagef("%s", "null.marker and headers.separator may not be equal")
		case lp.headersDelim:
			return nil, cli.Messagef("%s", "null.marker and headers.delimiter may not be equal")
		case lp.headersKeySep:
			return nil, cli.Messagef("%s", "null.marker and headers.key.separator may not be equal")
		}
	}
	return lp, nil
}

func (lp *lineParser) isNull(s string) bool { return lp.nullMarker != nil && s == *lp.nullMarker }

// field returns the text of line from start up to sep, or ok=false when
// parsing is off or (with ignore.error) sep is missing.
func (lp *lineParser) field(enabled bool, line string, start int, sep, what string, lineNo int) (string, bool, error) {
	if !enabled {
		return "", false, nil
	}
	i := strings.Index(line[start:], sep)
	if i < 0 {
		if lp.ignoreError {
			return "", false, nil
		}
		return "", false, cli.Messagef("No %s found on line number %d: '%s'", what, lineNo, line)
	}
	return line[start : start+i], true, nil
}

// parse builds the record of one line (lineNo counts from 1).
func (lp *lineParser) parse(line string, lineNo int) (*kgo.Record, error) {
	headers, hasHeaders, err := lp.field(lp.parseHeaders, line, 0, lp.headersDelim, "headers delimiter", lineNo)
	if err != nil {
		return nil, err
	}
	off := 0
	if hasHeaders {
		off = len(headers) + len(lp.headersDelim)
	}
	key, hasKey, err := lp.field(lp.parseKey, line, off, lp.keySep, "key separator", lineNo)
	if err != nil {
		return nil, err
	}
	if hasKey {
		off += len(key) + len(lp.keySep)
	}
	value := line[off:]
	r := &kgo.Record{Topic: lp.topic}
	if hasKey && !lp.isNull(key) {
		r.Key = []byte(key)
	}
	if !lp.isNull(value) {
		r.Value = []byte(value)
	}
	if hasHeaders && !lp.isNull(headers) {
		for _, pair := range javaRegexSplit(lp.headersSep, headers) {
			i := strings.Index(pair, lp.headersKeySep)
			if i < 0 {
				if lp.ignoreError {
					r.Headers = append(r.Headers, kgo.RecordHeader{Key: pair})
					continue
				}
				return nil, cli.Messagef("No header key separator found in pair '%s' on line number %d", pair, lineNo)
			}
			hk := pair[:i]
			if lp.isNull(hk) {
				return nil, cli.Messagef("Header keys should not be equal to the null marker '%s' as they can't be null", *lp.nullMarker)
			}
			h := kgo.RecordHeader{Key: hk}
			if hv := pair[i+len(lp.headersKeySep):]; !lp.isNull(hv) {
				h.Value = []byte(hv)
			}
			r.Headers = append(r.Headers, h)
		}
	}
	// Value, Key and header values stay nil for null; kgo writes nil as
	// Kafka's null (length -1) and an empty slice as "".
	if r.Value == nil && !lp.isNull(value) {
		r.Value = []byte{}
	}
	return r, nil
}

// javaRegexSplit is Pattern.split: trailing empty strings are dropped, an
// empty input gives [""].
func javaRegexSplit(re *regexp.Regexp, s string) []string {
	if s == "" {
		return []string{""}
	}
	parts := re.Split(s, -1)
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// lineReader reads lines as BufferedReader.readLine does: a line ends at
// "\n", "\r" or "\r\n"; a last line without a terminator still counts.
type lineReader struct{ r *bufio.Reader }

func newLineReader(r io.Reader) *lineReader { return &lineReader{r: bufio.NewReaderSize(r, 64<<10)} }

// next returns the next line without its terminator, or io.EOF (or the read
// error) when there is none.
func (lr *lineReader) next() (string, error) {
	var b []byte
	for {
		c, err := lr.r.ReadByte()
		if err != nil {
			if len(b) > 0 {
				return string(b), nil
			}
			return "", err
		}
		switch c {
		case '\n':
			return string(b), nil
		case '\r':
			if n, err := lr.r.Peek(1); err == nil && n[0] == '\n' {
				_, _ = lr.r.ReadByte()
			}
			return string(b), nil
		}
		b = append(b, c)
	}
}
