package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// dateFormat formats times with a java.text.SimpleDateFormat pattern (the
// --date-format option). It knows the letters a benchmark log needs:
//
//	y (yy: two digits, otherwise the full year)   M (M, MM, MMM, MMMM)
//	d  H  h  m  s (padded to the run's length)      S (milliseconds, padded)
//	a (AM/PM)  E (EEE, EEEE)  z (zone name)  Z (-0700)
//
// Text in single quotes is literal, two single quotes are one; other ASCII letters are
// an error, as in Java ("Illegal pattern character 'x'"); everything else
// is copied.
type dateFormat struct {
	fields []dateField
}

type dateField struct {
	letter byte   // 0 for literal text
	n      int    // run length
	text   string // literal text
}

func newDateFormat(pattern string) (*dateFormat, error) {
	f := &dateFormat{}
	lit := func(s string) {
		if n := len(f.fields); n > 0 && f.fields[n-1].letter == 0 {
			f.fields[n-1].text += s
			return
		}
		f.fields = append(f.fields, dateField{text: s})
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit("'")
				i += 2
				continue
			}
			end := strings.IndexByte(pattern[i+1:], '\'')
			if end < 0 {
				return nil, cli.Messagef("Unterminated quote")
			}
			lit(strings.ReplaceAll(pattern[i+1:i+1+end], "''", "'"))
			i += end + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune("yMdHhmsSaEzZ", rune(c)) {
				return nil, cli.Messagef("Illegal pattern character '%c'", c)
			}
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			f.fields = append(f.fields, dateField{letter: c, n: j - i})
			i = j
		default:
			lit(string(c))
			i++
		}
	}
	return f, nil
}

func pad(v, n int) string {
	s := strconv.Itoa(v)
	if len(s) < n {
		s = strings.Repeat("0", n-len(s)) + s
	}
	return s
}

// format prints t in the local time zone, as Java's default.
func (f *dateFormat) format(t time.Time) string {
	var b strings.Builder
	for _, fl := range f.fields {
		switch fl.letter {
		case 0:
			b.WriteString(fl.text)
		case 'y':
			if fl.n == 2 {
				b.WriteString(pad(t.Year()%100, 2))
			} else {
				b.WriteString(pad(t.Year(), fl.n))
			}
		case 'M':
			switch {
			case fl.n >= 4:
				b.WriteString(t.Month().String())
			case fl.n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(pad(int(t.Month()), fl.n))
			}
		case 'd':
			b.WriteString(pad(t.Day(), fl.n))
		case 'H':
			b.WriteString(pad(t.Hour(), fl.n))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, fl.n))
		case 'm':
			b.WriteString(pad(t.Minute(), fl.n))
		case 's':
			b.WriteString(pad(t.Second(), fl.n))
		case 'S':
			b.WriteString(pad(t.Nanosecond()/int(time.Millisecond), fl.n))
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'E':
			if fl.n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'z':
			name, _ := t.Zone()
			b.WriteString(name)
		case 'Z':
			_, off := t.Zone()
			sign := '+'
			if off < 0 {
				sign, off = '-', -off
			}
			fmt.Fprintf(&b, "%c%02d%02d", sign, off/3600, off%3600/60)
		}
	}
	return b.String()
}
