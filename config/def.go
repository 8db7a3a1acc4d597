package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Type is the type of a configuration value. The numbers are the ConfigType
// codes of DescribeConfigs v3+ (Kafka's DescribeConfigsResponse.ConfigType).
type Type int8

// Configuration value types.
const (
	TypeUnknown  Type = 0
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeShort    Type = 4
	TypeLong     Type = 5
	TypeDouble   Type = 6
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

func (t Type) String() string {
	switch t {
	case TypeBoolean:
		return "BOOLEAN"
	case TypeString:
		return "STRING"
	case TypeInt:
		return "INT"
	case TypeShort:
		return "SHORT"
	case TypeLong:
		return "LONG"
	case TypeDouble:
		return "DOUBLE"
	case TypeList:
		return "LIST"
	case TypeClass:
		return "CLASS"
	case TypePassword:
		return "PASSWORD"
	}
	return "UNKNOWN"
}

// noDefault marks a definition whose default is null (Kafka's null default:
// the setting has no value unless given).
const noDefault = "\x00null"

// def is the definition of one setting: Kafka's ConfigKey plus what kbroker
// does with it.
//
// Parsed values are: bool (BOOLEAN), string (STRING, CLASS, PASSWORD), int32
// (INT), int16 (SHORT), int64 (LONG), float64 (DOUBLE), []string (LIST), and
// nil for a null default.
type def struct {
	name string
	typ  Type
	dflt string // Kafka's default as text; noDefault for null
	// check validates a parsed, non-nil value; it returns the reason, Kafka's
	// wording, or "".
	check func(v any) string
	// reject refuses values kbroker does not support; it returns the reason
	// or "". Nil = every valid value is accepted.
	reject func(v any) string
	// used is false for Kafka settings kbroker accepts but does not act on.
	used bool
	// dynamic is true for Kafka's dynamically updatable broker settings
	// (DescribeConfigs reports readOnly = !dynamic).
	dynamic bool

	defaultValue any // parsed dflt, filled by index()
}

func (d *def) hasDefault() bool { return d.dflt != noDefault }

func (d *def) sensitive() bool { return d.typ == TypePassword }

// registry is an ordered, indexed set of definitions.
type registry struct {
	defs   []*def
	byName map[string]*def
}

func newRegistry(defs []*def) *registry {
	r := &registry{defs: defs, byName: make(map[string]*def, len(defs))}
	for _, d := range defs {
		if _, dup := r.byName[d.name]; dup {
			panic("config: duplicate definition " + d.name)
		}
		if d.hasDefault() {
			v, reason := parseValue(d.typ, d.dflt)
			if reason == "" && d.check != nil {
				reason = d.check(v)
			}
			if reason != "" {
				panic(fmt.Sprintf("config: bad default %q for %s: %s", d.dflt, d.name, reason))
			}
			d.defaultValue = v
		}
		r.byName[d.name] = d
	}
	return r
}

func (r *registry) get(name string) (*def, bool) {
	d, ok := r.byName[name]
	return d, ok
}

// parse converts and validates one raw value of d.
func (d *def) parse(raw string) (any, string) {
	v, reason := parseValue(d.typ, raw)
	if reason != "" {
		return nil, reason
	}
	if d.check != nil {
		if reason := d.check(v); reason != "" {
			return nil, reason
		}
	}
	return v, ""
}

// javaTrim removes leading and trailing characters <= ' ' as String.trim does.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

// parseValue converts text to a typed value the way Kafka's ConfigDef does:
// the text is trimmed; booleans are case-insensitive; lists split on commas
// with surrounding white space, an empty text being the empty list.
func parseValue(t Type, raw string) (any, string) {
	s := javaTrim(raw)
	switch t {
	case TypeBoolean:
		switch {
		case strings.EqualFold(s, "true"):
			return true, ""
		case strings.EqualFold(s, "false"):
			return false, ""
		}
		return nil, "Expected value to be either true or false"
	case TypeString, TypeClass, TypePassword:
		return s, ""
	case TypeInt:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, "Not a number of type INT"
		}
		return int32(n), ""
	case TypeShort:
		n, err := strconv.ParseInt(s, 10, 16)
		if err != nil {
			return nil, "Not a number of type SHORT"
		}
		return int16(n), ""
	case TypeLong:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, "Not a number of type LONG"
		}
		return n, ""
	case TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || strings.ContainsRune(s, '_') {
			return nil, "Not a number of type DOUBLE"
		}
		return f, ""
	case TypeList:
		if s == "" {
			return []string{}, ""
		}
		parts := strings.Split(s, ",")
		for i, p := range parts {
			parts[i] = strings.TrimSpace(p)
		}
		return parts, ""
	}
	return nil, "unknown type"
}

// formatValue renders a parsed value as Kafka's ConfigDef.convertToString
// does; nil stays nil.
func formatValue(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		s = strconv.FormatBool(x)
	case string:
		s = x
	case int16:
		s = strconv.FormatInt(int64(x), 10)
	case int32:
		s = strconv.FormatInt(int64(x), 10)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = javaDouble(x)
	case []string:
		s = strings.Join(x, ",")
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

// javaDouble formats f as Java's Double.toString: plain decimal with at least
// one fractional digit for 1e-3 <= |f| < 1e7, else "d.dddE[-]n".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	a := math.Abs(f)
	if a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1.7976931348623157E+308, 1E-05
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-")
	exp = strings.TrimLeft(exp, "0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}

// Validators. Their messages follow Kafka's ConfigDef validators, so that
// "Invalid value X for configuration Y: <reason>" reads as Kafka's does.

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func numText(n float64) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e18 {
		return strconv.FormatInt(int64(n), 10)
	}
	return javaDouble(n)
}

// atLeast is Kafka's Range.atLeast.
func atLeast(lo float64) func(any) string {
	return func(v any) string {
		if f, ok := toFloat(v); ok && f < lo {
			return "Value must be at least " + numText(lo)
		}
		return ""
	}
}

// between is Kafka's Range.between (inclusive).
func between(lo, hi float64) func(any) string {
	return func(v any) string {
		f, ok := toFloat(v)
		switch {
		case !ok:
		case f < lo:
			return "Value must be at least " + numText(lo)
		case f > hi:
			return "Value must be no more than " + numText(hi)
		}
		return ""
	}
}

// oneOf is Kafka's ValidString.in (case-sensitive).
func oneOf(valid ...string) func(any) string {
	return func(v any) string {
		s, _ := v.(string)
		for _, x := range valid {
			if s == x {
				return ""
			}
		}
		return "String must be one of: " + strings.Join(valid, ", ")
	}
}

// listOf is Kafka's ValidList.in: every element must be one of valid.
func listOf(valid ...string) func(any) string {
	return func(v any) string {
		list, _ := v.([]string)
		for _, e := range list {
			ok := false
			for _, x := range valid {
				if e == x {
					ok = true
					break
				}
			}
			if !ok {
				return "String must be one of: " + strings.Join(valid, ", ")
			}
		}
		return ""
	}
}

// knownMetadataVersions are the release prefixes MetadataVersion accepts.
var knownMetadataVersions = map[string]bool{
	"0.8.0": true, "0.8.1": true, "0.8.2": true, "0.9.0": true, "0.10.0": true, "0.10.1": true,
	"0.10.2": true, "0.11.0": true, "1.0": true, "1.1": true, "2.0": true, "2.1": true, "2.2": true,
	"2.3": true, "2.4": true, "2.5": true, "2.6": true, "2.7": true, "2.8": true, "3.0": true,
	"3.1": true, "3.2": true, "3.3": true, "3.4": true, "3.5": true, "3.6": true, "3.7": true,
	"3.8": true, "3.9": true,
}

// metadataVersion is Kafka's MetadataVersionValidator: "3.9", "3.9-IV0",
// "2.8.1", "0.10.2-IV0", ... up to 3.9.
func metadataVersion(v any) string {
	s, _ := v.(string)
	base, iv, hasIV := strings.Cut(s, "-")
	if hasIV {
		if !strings.HasPrefix(iv, "IV") || len(iv) < 3 {
			return versionReason()
		}
		if _, err := strconv.Atoi(iv[2:]); err != nil {
			return versionReason()
		}
	}
	segs := strings.Split(base, ".")
	n := 2
	if strings.HasPrefix(base, "0.") {
		n = 3
	}
	if len(segs) > n {
		segs = segs[:n]
	}
	if !knownMetadataVersions[strings.Join(segs, ".")] {
		return versionReason()
	}
	return ""
}

func versionReason() string {
	return "Version must be a valid Kafka release (0.8.0 to 3.9, optionally with an -IVn suffix)"
}

// compressionTypes are Kafka's BrokerCompressionType names.
var compressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}

// securityProtocols are Kafka's SecurityProtocol names.
var securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// gzipLevel, lz4Level and zstdLevel are Kafka's CompressionType level
// validators.
func gzipLevel(v any) string {
	n, _ := v.(int32)
	if n == -1 || (n >= 1 && n <= 9) {
		return ""
	}
	return "Value must be between 1 and 9, or -1 (Deflater.DEFAULT_COMPRESSION)"
}

var (
	lz4Level  = between(1, 17)
	zstdLevel = between(-131072, 22)
)

// throttledReplicas is Kafka's ThrottledReplicaListValidator: "*" or
// "partition:broker" pairs.
func throttledReplicas(v any) string {
	list, _ := v.([]string)
	if len(list) == 1 && list[0] == "*" {
		return ""
	}
	for _, e := range list {
		p, b, ok := strings.Cut(e, ":")
		if !ok || !isDigits(p) || !isDigits(b) {
			return "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
		}
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// rejectIfSet refuses any explicit value.
func rejectIfSet(reason string) func(any) string {
	return func(any) string { return reason }
}

// rejectUnless refuses every value but the one given.
func rejectUnless(ok any, reason string) func(any) string {
	return func(v any) string {
		if fmt.Sprint(v) == fmt.Sprint(ok) {
			return ""
		}
		return reason
	}
}
