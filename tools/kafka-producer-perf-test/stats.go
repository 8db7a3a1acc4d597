package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"
)

// maxSamples bounds the latencies kept for the percentiles: with more
// records than this, every k-th completion is kept.
const maxSamples = 500_000

// stats collects what the send callbacks report and prints the periodic
// window lines and the final total. Callbacks run on the client's
// goroutines, so every field is guarded by mu, and so is out (the window
// lines are printed from a callback).
type stats struct {
	mu  sync.Mutex
	out io.Writer

	start       time.Time
	reportEvery time.Duration
	sampleEvery int64

	// The whole run: completed records (sent without error), their value
	// bytes, the sum and maximum of their latencies, the kept samples.
	count, bytes int64
	sumLatency   time.Duration
	maxLatency   time.Duration
	samples      []time.Duration

	// The current window.
	winStart      time.Time
	winCount      int64
	winBytes      int64
	winSumLatency time.Duration
	winMaxLatency time.Duration

	// Failed sends: how many, and the first error.
	failed   int64
	firstErr error
}

func newStats(out io.Writer, numRecords int64, reportEvery time.Duration, now time.Time) *stats {
	every := max(1, (numRecords+maxSamples-1)/maxSamples)
	return &stats{
		out:         out,
		start:       now,
		winStart:    now,
		reportEvery: reportEvery,
		sampleEvery: every,
		samples:     make([]time.Duration, 0, min(numRecords/every+1, maxSamples)),
	}
}

// completed records the outcome of one send that took latency and ended at
// now. A window line is printed when the window is reportEvery old.
func (s *stats) completed(latency time.Duration, size int, now time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.failed++
		if s.firstErr == nil {
			s.firstErr = err
		}
		return
	}
	if s.count%s.sampleEvery == 0 {
		s.samples = append(s.samples, latency)
	}
	s.count++
	s.bytes += int64(size)
	s.sumLatency += latency
	s.maxLatency = max(s.maxLatency, latency)
	s.winCount++
	s.winBytes += int64(size)
	s.winSumLatency += latency
	s.winMaxLatency = max(s.winMaxLatency, latency)
	if now.Sub(s.winStart) >= s.reportEvery {
		s.printWindowLocked(now)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(bytes float64) float64 { return bytes / (1 << 20) }

// printWindowLocked prints the window's line and starts a new window.
func (s *stats) printWindowLocked(now time.Time) {
	secs := now.Sub(s.winStart).Seconds()
	fmt.Fprintf(s.out, "%d records sent, %s records/sec (%s MB/sec), %s ms avg latency, %s ms max latency.\n",
		s.winCount, javaFloat(float64(s.winCount)/secs, 1), javaFloat(mib(float64(s.winBytes))/secs, 2),
		javaFloat(ms(s.winSumLatency)/float64(s.winCount), 1), javaFloat(ms(s.winMaxLatency), 1))
	s.winStart = now
	s.winCount, s.winBytes, s.winSumLatency, s.winMaxLatency = 0, 0, 0, 0
}

// total is the summary of a finished run.
type total struct {
	Count, Bytes           int64
	Elapsed                time.Duration
	AvgLatency, MaxLatency time.Duration
	P50, P95, P99, P999    time.Duration
	Failed                 int64
	FirstErr               error
}

// finish computes the summary at now and prints its line.
func (s *stats) finish(now time.Time) total {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := total{Count: s.count, Bytes: s.bytes, Elapsed: now.Sub(s.start), MaxLatency: s.maxLatency,
		Failed: s.failed, FirstErr: s.firstErr}
	if s.count > 0 {
		t.AvgLatency = s.sumLatency / time.Duration(s.count)
	}
	slices.Sort(s.samples)
	pct := func(p float64) time.Duration {
		if len(s.samples) == 0 {
			return 0
		}
		return s.samples[min(int(p*float64(len(s.samples))), len(s.samples)-1)]
	}
	t.P50, t.P95, t.P99, t.P999 = pct(0.5), pct(0.95), pct(0.99), pct(0.999)
	secs := t.Elapsed.Seconds()
	avg := math.NaN()
	if s.count > 0 {
		avg = ms(s.sumLatency) / float64(s.count)
	}
	fmt.Fprintf(s.out, "%d records sent, %s records/sec (%s MB/sec), %s ms avg latency, %s ms max latency, "+
		"%d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		t.Count, javaFloat(float64(t.Count)/secs, 6), javaFloat(mib(float64(t.Bytes))/secs, 2),
		javaFloat(avg, 2), javaFloat(ms(t.MaxLatency), 2),
		t.P50.Milliseconds(), t.P95.Milliseconds(), t.P99.Milliseconds(), t.P999.Milliseconds())
	return t
}

// javaFloat formats v with prec decimals as Java's %.Nf does, including its
// spelling of the values that are not numbers.
func javaFloat(v float64, prec int) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return fmt.Sprintf("%.*f", prec, v)
}
