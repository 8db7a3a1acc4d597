package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// property is one key/value pair of a properties file, with the line its
// logical line starts on (for error messages).
type property struct {
	Key   string
	Value string
	Line  int
}

// parseProperties reads Java properties syntax (java.util.Properties.load):
//
//   - a logical line may continue on the next natural line when it ends in an
//     odd number of backslashes; leading white space of the continuation is
//     dropped;
//   - lines whose first non-blank character is '#' or '!' are comments;
//   - the key ends at the first unescaped '=', ':' or white space; white space
//     around the separator is skipped; "key value", "key=value" and
//     "key: value" are all accepted;
//   - escapes: \t \n \r \f, \uXXXX, and a backslash before any other
//     character stands for that character.
//
// The text is read as UTF-8 (Java reads ISO-8859-1; Kafka configs are ASCII in
// practice). Keys keep their case. A key given twice keeps the last value, as
// in Java, and is reported once, at its last position.
func parseProperties(text string) ([]property, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("properties file is not valid UTF-8")
	}
	lines := splitNaturalLines(text)
	var props []property
	index := map[string]int{}
	for i := 0; i < len(lines); i++ {
		startLine := i + 1
		line := trimLeftBlank(lines[i])
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines.
		var logical strings.Builder
		for {
			if endsWithOddBackslashes(line) && i+1 < len(lines) {
				logical.WriteString(line[:len(line)-1])
				i++
				line = trimLeftBlank(lines[i])
				continue
			}
			if endsWithOddBackslashes(line) {
				// A final line ending in a lone backslash: Java drops it.
				line = line[:len(line)-1]
			}
			logical.WriteString(line)
			break
		}
		key, value, err := splitKeyValue(logical.String())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", startLine, err)
		}
		p := property{Key: key, Value: value, Line: startLine}
		if j, ok := index[key]; ok {
			props[j] = p
			continue
		}
		index[key] = len(props)
		props = append(props, p)
	}
	return props, nil
}

// splitNaturalLines splits on \n, \r and \r\n.
func splitNaturalLines(text string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n':
			lines = append(lines, text[start:i])
			start = i + 1
		case '\r':
			lines = append(lines, text[start:i])
			if i+1 < len(text) && text[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(text) {
		lines = append(lines, text[start:])
	}
	return lines
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func trimLeftBlank(s string) string {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return s[i:]
}

func endsWithOddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKeyValue splits one logical line (leading blanks removed) into its
// unescaped key and value.
func splitKeyValue(line string) (string, string, error) {
	keyEnd := len(line)
	valueStart := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++ // skip the escaped character
			continue
		}
		if c == '=' || c == ':' {
			keyEnd, valueStart = i, i+1
			break
		}
		if isBlank(c) {
			keyEnd = i
			j := i
			for j < len(line) && isBlank(line[j]) {
				j++
			}
			if j < len(line) && (line[j] == '=' || line[j] == ':') {
				j++
			}
			valueStart = j
			break
		}
	}
	key, err := unescape(line[:keyEnd])
	if err != nil {
		return "", "", err
	}
	value, err := unescape(trimLeftBlank(line[min(valueStart, len(line)):]))
	if err != nil {
		return "", "", err
	}
	return key, value, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

// propertiesCodec is the viper codec for the "properties" format. viper 1.20+
// no longer ships one; this one follows java.util.Properties. It records the
// keys exactly as written so that the loader can reject names whose case
// differs from Kafka's (viper lowercases keys).
type propertiesCodec struct {
	props []property
}

// Decode implements viper.Decoder: every property becomes a flat string
// entry (the viper instance uses a key delimiter that never occurs in names).
func (c *propertiesCodec) Decode(b []byte, v map[string]any) error {
	props, err := parseProperties(string(b))
	if err != nil {
		return err
	}
	c.props = append(c.props, props...)
	for _, p := range props {
		v[p.Key] = p.Value
	}
	return nil
}

// Encode implements viper.Encoder (viper requires it of a codec; kbroker
// never writes configuration files).
func (c *propertiesCodec) Encode(v map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v\n", k, v[k])
	}
	return []byte(b.String()), nil
}
