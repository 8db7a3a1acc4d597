package main

import (
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	for in, want := range map[string]int64{
		"1970-01-01T00:00:00.000":       0,
		"2024-02-29T12:34:56.789Z":      time.Date(2024, 2, 29, 12, 34, 56, 789e6, time.UTC).UnixMilli(),
		"2024-02-29T12:34:56.789+02:00": time.Date(2024, 2, 29, 10, 34, 56, 789e6, time.UTC).UnixMilli(),
		"2024-02-29T12:34:56.789-05":    time.Date(2024, 2, 29, 17, 34, 56, 789e6, time.UTC).UnixMilli(),
		"2024-2-9T1:2:3.4":              time.Date(2024, 2, 9, 1, 2, 3, 4e6, time.UTC).UnixMilli(),
	} {
		got, err := parseDateTime(in)
		if err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"2023-02-29T00:00:00.000":  `java.text.ParseException: Unparseable date: "2023-02-29T00:00:00.000Z"`,
		"2024-01-01T24:00:00.000":  `java.text.ParseException: Unparseable date: "2024-01-01T24:00:00.000Z"`,
		"2024-01-01T00:00:00":      `java.text.ParseException: Unparseable date: "2024-01-01T00:00:00Z"`,
		"2024-01-01T00:00:00.1000": `java.text.ParseException: Unparseable date: "2024-01-01T00:00:00.1000Z"`,
		"2024-01-01 00:00:00.000":  "java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format",
	} {
		if _, err := parseDateTime(in); err == nil || err.Error() != msg {
			t.Errorf("%s: %v, want %s", in, err, msg)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT0S":        0,
		"P2D":         48 * time.Hour,
		"PT1H30M":     90 * time.Minute,
		"p1dt2h3m4s":  26*time.Hour + 3*time.Minute + 4*time.Second,
		"PT1.5S":      1500 * time.Millisecond,
		"-PT6H":       -6 * time.Hour,
		"PT-1H+30M":   -30 * time.Minute,
		"PT-0.5S":     -500 * time.Millisecond,
		"P1DT0,25S":   24*time.Hour + 250*time.Millisecond,
		"+PT10M":      10 * time.Minute,
		"PT0.000001S": time.Microsecond,
	} {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "1D", "P1H", "PT1D", "P1DT", "PT1.5M", "P1W"} {
		if _, err := parseDuration(in); err == nil || err.Error() != "Text cannot be parsed to a Duration" {
			t.Errorf("%q: %v", in, err)
		}
	}
}
