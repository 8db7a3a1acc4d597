package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// produced is the final line of kafka-producer-perf-test.
type produced struct {
	records             int64
	perSec, mbPerSec    float64
	avgMs, maxMs        float64
	p50, p95, p99, p999 int64
}

var totalLine = regexp.MustCompile(`^(\d+) records sent, ([0-9.]+|NaN|Infinity) records/sec \(([0-9.]+|NaN|Infinity) MB/sec\), ` +
	`([0-9.]+|NaN) ms avg latency, ([0-9.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$`)

// parseProducer finds the total line (the last line that matches) in the
// tool's output.
func parseProducer(out string) (produced, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		m := totalLine.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		var p produced
		p.records, _ = strconv.ParseInt(m[1], 10, 64)
		p.perSec, _ = strconv.ParseFloat(m[2], 64)
		p.mbPerSec, _ = strconv.ParseFloat(m[3], 64)
		p.avgMs, _ = strconv.ParseFloat(m[4], 64)
		p.maxMs, _ = strconv.ParseFloat(m[5], 64)
		p.p50, _ = strconv.ParseInt(m[6], 10, 64)
		p.p95, _ = strconv.ParseInt(m[7], 10, 64)
		p.p99, _ = strconv.ParseInt(m[8], 10, 64)
		p.p999, _ = strconv.ParseInt(m[9], 10, 64)
		return p, nil
	}
	return produced{}, fmt.Errorf("no total line in the producer's output:\n%s", out)
}

// consumed is the data line of kafka-consumer-perf-test --hide-header.
type consumed struct {
	mb, mbPerSec  float64
	records       int64
	perSec        float64
	rebalanceMs   int64
	fetchMs       int64
	fetchPerSec   float64
	fetchMBPerSec float64
}

// parseConsumer reads the last line of ten comma-separated fields.
func parseConsumer(out string) (consumed, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Split(lines[i], ", ")
		if len(f) != 10 {
			continue
		}
		var c consumed
		var errs [8]error
		c.mb, errs[0] = strconv.ParseFloat(f[2], 64)
		c.mbPerSec, errs[1] = strconv.ParseFloat(f[3], 64)
		c.records, errs[2] = strconv.ParseInt(f[4], 10, 64)
		c.perSec, errs[3] = strconv.ParseFloat(f[5], 64)
		c.rebalanceMs, errs[4] = strconv.ParseInt(f[6], 10, 64)
		c.fetchMs, errs[5] = strconv.ParseInt(f[7], 10, 64)
		c.fetchMBPerSec, errs[6] = strconv.ParseFloat(f[8], 64)
		c.fetchPerSec, errs[7] = strconv.ParseFloat(f[9], 64)
		for _, err := range errs {
			if err != nil {
				return consumed{}, fmt.Errorf("consumer line %q: %w", lines[i], err)
			}
		}
		return c, nil
	}
	return consumed{}, fmt.Errorf("no data line in the consumer's output:\n%s", out)
}
