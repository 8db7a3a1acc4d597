package main

// Command-line options, parsed the way Kafka's tool parses them with
// joptsimple: "--name value", "--name=value", a single leading hyphen, unique
// prefixes of option names, a required argument taking the next token
// whatever it looks like, an optional argument taking it only when it does
// not look like an option, and non-option arguments ignored.

import (
	"sort"
	"strings"
)

const (
	helpMessage = "This tool helps to parse a log file and dump its contents to the console, " +
		"useful for debugging a seemingly corrupt log segment."
	stringDecoderClass = "org.apache.kafka.tools.api.StringDecoder"
	// kafkaVersion is the Kafka release whose output this tool reproduces;
	// --version prints it as Kafka's tool prints its own version.
	kafkaVersion = "3.9.0"
)

type argKind int

const (
	noArg argKind = iota
	requiredArg
	optionalArg
)

type optSpec struct {
	name      string
	kind      argKind
	argType   string // "String", "Integer"
	describer string // joptsimple describedAs
	def       string // default value shown in the help
	desc      string
}

var optSpecs = []optSpec{
	{name: "print-data-log", desc: "If set, printing the messages content when dumping data logs. Automatically set if any decoder option is specified."},
	{name: "verify-index-only", desc: "If set, just verify the index log without printing its content."},
	{name: "index-sanity-check", desc: "If set, just checks the index sanity without printing its content. " +
		"This is the same check that is executed on broker startup to determine if an index needs rebuilding or not."},
	{name: "files", kind: requiredArg, argType: "String", describer: "file1, file2, ...",
		desc: "REQUIRED: The comma separated list of data and index log files to be dumped."},
	{name: "max-message-size", kind: requiredArg, argType: "Integer", describer: "size", def: "5242880",
		desc: "Size of largest message."},
	{name: "max-bytes", kind: requiredArg, argType: "Integer", describer: "size", def: "2147483647",
		desc: "Limit the amount of total batches read in bytes avoiding reading the whole .log file(s)."},
	{name: "deep-iteration", desc: "If set, uses deep instead of shallow iteration. Automatically set if print-data-log is enabled."},
	{name: "value-decoder-class", kind: optionalArg, argType: "String", def: stringDecoderClass,
		desc: "If set, used to deserialize the messages. This class should implement org.apache.kafka.tools.api.Decoder trait. Custom jar should be available in kafka/libs directory."},
	{name: "key-decoder-class", kind: optionalArg, argType: "String", def: stringDecoderClass,
		desc: "If set, used to deserialize the keys. This class should implement org.apache.kafka.tools.api.Decoder trait. Custom jar should be available in kafka/libs directory."},
	{name: "offsets-decoder", desc: "If set, log data will be parsed as offset data from the __consumer_offsets topic."},
	{name: "transaction-log-decoder", desc: "If set, log data will be parsed as transaction metadata from the __transaction_state topic."},
	{name: "cluster-metadata-decoder", desc: "If set, log data will be parsed as cluster metadata records."},
	{name: "remote-log-metadata-decoder", desc: "If set, log data will be parsed as TopicBasedRemoteLogMetadataManager (RLMM) metadata records." +
		" Instead, the value-decoder-class option can be used if a custom RLMM implementation is configured."},
	{name: "skip-record-metadata", desc: "Whether to skip printing metadata for each record."},
	{name: "help", desc: "Print usage information."},
	{name: "version", desc: "Display Kafka version."},
}

// parsedOptions is the OptionSet: which options were given and their values.
type parsedOptions struct {
	has    map[string]bool
	values map[string][]string
}

func (o *parsedOptions) value(name string) (string, bool, error) {
	vs := o.values[name]
	switch len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return vs[0], true, nil
	}
	return "", false, jerr("joptsimple.MultipleArgumentsForOptionException",
		"Found multiple arguments for option %s, but you asked for only one", name)
}

func findSpec(name string) *optSpec {
	for i := range optSpecs {
		if optSpecs[i].name == name {
			return &optSpecs[i]
		}
	}
	var match *optSpec
	for i := range optSpecs {
		if strings.HasPrefix(optSpecs[i].name, name) {
			if match != nil {
				return nil // ambiguous abbreviation
			}
			match = &optSpecs[i]
		}
	}
	return match
}

func looksLikeOption(s string) bool { return len(s) > 1 && strings.HasPrefix(s, "-") }

func parseArgs(args []string) (*parsedOptions, error) {
	o := &parsedOptions{has: map[string]bool{}, values: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break // the rest are non-option arguments, which the tool ignores
		}
		if !looksLikeOption(a) {
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		var inline *string
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			v := name[eq+1:]
			inline = &v
			name = name[:eq]
		}
		spec := findSpec(name)
		if name == "" || spec == nil {
			return nil, jerr("joptsimple.UnrecognizedOptionException", "%s is not a recognized option", name)
		}
		o.has[spec.name] = true
		switch spec.kind {
		case noArg:
			if inline != nil {
				return nil, jerr("joptsimple.UnexpectedArgumentException",
					"Option %s does not take an argument", spec.name)
			}
		case requiredArg:
			switch {
			case inline != nil:
				o.values[spec.name] = append(o.values[spec.name], *inline)
			case i+1 < len(args):
				i++
				o.values[spec.name] = append(o.values[spec.name], args[i])
			default:
				return nil, jerr("joptsimple.OptionMissingRequiredArgumentException",
					"Option %s requires an argument", spec.name)
			}
		case optionalArg:
			switch {
			case inline != nil:
				o.values[spec.name] = append(o.values[spec.name], *inline)
			case i+1 < len(args) && !looksLikeOption(args[i+1]):
				i++
				o.values[spec.name] = append(o.values[spec.name], args[i])
			}
		}
	}
	return o, nil
}

// options are the settings of one run, derived as DumpLogSegmentsOptions
// derives them. Integer options are converted when first used, as Kafka's
// lazy vals are, so a bad --max-bytes only fails when a .log is dumped.
type options struct {
	set *parsedOptions

	printDataLog       bool
	deepIteration      bool
	skipRecordMetadata bool
	verifyOnly         bool
	indexSanityOnly    bool
	files              string
	valueDecoder       string
	keyDecoder         string
}

func newOptions(set *parsedOptions) (*options, error) {
	o := &options{set: set}
	has := set.has
	o.printDataLog = has["print-data-log"] || has["offsets-decoder"] || has["transaction-log-decoder"] ||
		has["cluster-metadata-decoder"] || has["remote-log-metadata-decoder"] ||
		has["value-decoder-class"] || has["key-decoder-class"]
	o.skipRecordMetadata = has["skip-record-metadata"]
	o.deepIteration = has["deep-iteration"] || o.printDataLog
	o.verifyOnly = has["verify-index-only"]
	o.indexSanityOnly = has["index-sanity-check"]
	var err error
	if o.files, _, err = set.value("files"); err != nil {
		return nil, err
	}
	if o.valueDecoder, err = decoderClass(set, "value-decoder-class"); err != nil {
		return nil, err
	}
	if o.keyDecoder, err = decoderClass(set, "key-decoder-class"); err != nil {
		return nil, err
	}
	return o, nil
}

func decoderClass(set *parsedOptions, name string) (string, error) {
	v, ok, err := set.value(name)
	if err != nil || !ok {
		return stringDecoderClass, err
	}
	return v, nil
}

func (o *options) intOption(name string, def int32) (int32, error) {
	v, ok, err := o.set.value(name)
	if err != nil || !ok {
		return def, err
	}
	n, perr := parseInt(v)
	if perr != nil {
		return 0, jerr("joptsimple.OptionArgumentConversionException",
			"Cannot parse argument '%s' of option %s", v, name)
	}
	return n, nil
}

func (o *options) maxMessageSize() (int32, error) {
	return o.intOption("max-message-size", 5*1024*1024)
}

func (o *options) maxBytes() (int32, error) { return o.intOption("max-bytes", 1<<31-1) }

// helpText lays the options out as joptsimple's BuiltinHelpFormatter does:
// sorted by name, the option with its argument in a 41-column left column,
// the description (and default) wrapped beside it. The layout is close to
// joptsimple's, not guaranteed identical column for column.
func helpText() string {
	const leftWidth, descWidth = 41, 39
	specs := append([]optSpec(nil), optSpecs...)
	sort.Slice(specs, func(i, j int) bool { return specs[i].name < specs[j].name })
	var b strings.Builder
	b.WriteString(pad("Option", leftWidth) + "Description\n")
	b.WriteString(pad("------", leftWidth) + "-----------\n")
	for _, s := range specs {
		left := "--" + s.name
		arg := s.argType
		if s.describer != "" {
			arg += ": " + s.describer
		}
		switch s.kind {
		case requiredArg:
			left += " <" + arg + ">"
		case optionalArg:
			left += " [" + arg + "]"
		}
		desc := s.desc
		if s.def != "" {
			desc += " (default: " + s.def + ")"
		}
		lefts := wrap(left, leftWidth-2)
		descs := wrap(desc, descWidth-2)
		for i := 0; i < len(lefts) || i < len(descs); i++ {
			var l, d string
			if i < len(lefts) {
				l = lefts[i]
				if i > 0 {
					l = "  " + l
				}
			}
			if i < len(descs) {
				d = descs[i]
				if i > 0 {
					d = "  " + d
				}
			}
			b.WriteString(strings.TrimRight(pad(l, leftWidth)+d, " ") + "\n")
		}
	}
	return b.String()
}

func pad(s string, width int) string {
	if len(s) >= width {
		return s + " "
	}
	return s + strings.Repeat(" ", width-len(s))
}

// wrap breaks text at spaces into lines of at most width characters (a
// longer word stays whole on its own line).
func wrap(text string, width int) []string {
	var lines []string
	var cur string
	for _, w := range strings.Fields(text) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
