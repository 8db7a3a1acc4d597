package cli

// A command-line parser that follows joptsimple, the option library behind
// Apache Kafka's shell tools, closely enough that the same command lines
// work and fail with the same messages:
//
//   - "--name value", "--name=value" and a single leading hyphen ("-name");
//   - a unique prefix of an option name selects it ("--boot" is
//     "--bootstrap-server"), an exact name always wins;
//   - an option with a required argument takes the next token whatever it
//     looks like; one with an optional argument takes it only when it does
//     not look like an option;
//   - "--" ends the options; other tokens are non-option arguments;
//   - options may repeat; asking for one value of a repeated option fails.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ArgKind says whether an option takes an argument.
type ArgKind int

// The argument kinds of joptsimple.
const (
	NoArg       ArgKind = iota // a flag: "--list"
	RequiredArg                // "--topic T"
	OptionalArg                // "--compression-codec [codec]"
)

// Spec describes one option.
type Spec struct {
	Name      string
	Arg       ArgKind
	Type      string // shown in the help: "String" (default), "Integer", "Long"
	Describer string // joptsimple describedAs: the argument's name in the help
	Default   string // joptsimple defaultsTo: the value when the option is absent
	Desc      string
}

// Parser parses command lines against a fixed set of options.
type Parser struct {
	Specs []Spec
}

// OptionError is a command-line error. Its text is joptsimple's (or the
// Kafka tool's) message, printed as one line.
type OptionError struct{ Msg string }

func (e *OptionError) Error() string { return e.Msg }

// Message is an error whose text is a message of Kafka's tools or clients,
// kept word for word (capitals and final periods included) because users and
// scripts match on it.
type Message struct{ Text string }

func (m *Message) Error() string { return m.Text }

// Messagef builds a Message.
func Messagef(format string, args ...any) error {
	return &Message{Text: fmt.Sprintf(format, args...)}
}

// Errorf builds an OptionError.
func Errorf(format string, args ...any) error {
	return &OptionError{Msg: fmt.Sprintf(format, args...)}
}

// Options is the result of a parse: which options were given and with which
// arguments.
type Options struct {
	parser *Parser
	given  map[string]bool
	values map[string][]string
	// NonOptions are the arguments that are not options (Kafka's tools
	// ignore them).
	NonOptions []string
}

func (p *Parser) spec(name string) *Spec {
	for i := range p.Specs {
		if p.Specs[i].Name == name {
			return &p.Specs[i]
		}
	}
	var match *Spec
	for i := range p.Specs {
		if strings.HasPrefix(p.Specs[i].Name, name) {
			if match != nil {
				return nil // ambiguous abbreviation
			}
			match = &p.Specs[i]
		}
	}
	return match
}

func looksLikeOption(s string) bool { return len(s) > 1 && strings.HasPrefix(s, "-") }

// Parse reads args. Unknown options, a missing required argument and an
// argument given to a flag are errors, with joptsimple's messages.
func (p *Parser) Parse(args []string) (*Options, error) {
	o := &Options{parser: p, given: map[string]bool{}, values: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			o.NonOptions = append(o.NonOptions, args[i+1:]...)
			break
		}
		if !looksLikeOption(a) {
			o.NonOptions = append(o.NonOptions, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		var inline *string
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			v := name[eq+1:]
			inline = &v
			name = name[:eq]
		}
		spec := p.spec(name)
		if name == "" || spec == nil {
			return nil, Errorf("%s is not a recognized option", name)
		}
		o.given[spec.Name] = true
		switch spec.Arg {
		case NoArg:
			if inline != nil {
				return nil, Errorf("Option %s does not take an argument", spec.Name)
			}
		case RequiredArg:
			switch {
			case inline != nil:
				o.values[spec.Name] = append(o.values[spec.Name], *inline)
			case i+1 < len(args):
				i++
				o.values[spec.Name] = append(o.values[spec.Name], args[i])
			default:
				return nil, Errorf("Option %s requires an argument", spec.Name)
			}
		case OptionalArg:
			switch {
			case inline != nil:
				o.values[spec.Name] = append(o.values[spec.Name], *inline)
			case i+1 < len(args) && !looksLikeOption(args[i+1]):
				i++
				o.values[spec.Name] = append(o.values[spec.Name], args[i])
			}
		}
	}
	return o, nil
}

// Has reports whether the option was given.
func (o *Options) Has(name string) bool { return o.given[name] }

// Values returns every argument given to a repeatable option, in order.
func (o *Options) Values(name string) []string { return o.values[name] }

// Value returns the option's single argument, its default when the option
// is absent (ok reports whether there is a value at all), or joptsimple's
// error when the option was given more than once.
func (o *Options) Value(name string) (v string, ok bool, err error) {
	vs := o.values[name]
	switch len(vs) {
	case 0:
		if s := o.parser.spec(name); s != nil && s.Default != "" && !o.given[name] {
			return s.Default, true, nil
		}
		return "", false, nil
	case 1:
		return vs[0], true, nil
	}
	return "", false, Errorf("Found multiple arguments for option %s, but you asked for only one", name)
}

// Int returns the option's value as an Integer option converts it.
func (o *Options) Int(name string) (n int32, ok bool, err error) {
	v, ok, err := o.Value(name)
	if err != nil || !ok {
		return 0, ok, err
	}
	x, perr := strconv.ParseInt(v, 10, 32)
	if perr != nil {
		return 0, false, Errorf("Cannot parse argument '%s' of option %s", v, name)
	}
	return int32(x), true, nil
}

// Long returns the option's value as a Long option converts it.
func (o *Options) Long(name string) (n int64, ok bool, err error) {
	v, ok, err := o.Value(name)
	if err != nil || !ok {
		return 0, ok, err
	}
	x, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil {
		return 0, false, Errorf("Cannot parse argument '%s' of option %s", v, name)
	}
	return x, true, nil
}

// Missing is CommandLineUtils.checkRequiredArgs' message for an absent
// required option.
func Missing(name string) error { return Errorf("Missing required argument \"[%s]\"", name) }

// CantCombine is CommandLineUtils.checkInvalidArgs' message.
func CantCombine(used, other string) error {
	return Errorf("Option \"[%s]\" can't be used with option \"[%s]\"", used, other)
}

// Help lays the options out as joptsimple's BuiltinHelpFormatter does:
// sorted by name, the option and its argument in a left column, the
// description (and default) wrapped beside it. The layout is close to
// joptsimple's, not guaranteed identical column for column.
func (p *Parser) Help() string {
	const leftWidth, descWidth = 41, 39
	specs := append([]Spec(nil), p.Specs...)
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	var b strings.Builder
	b.WriteString(pad("Option", leftWidth) + "Description\n")
	b.WriteString(pad("------", leftWidth) + "-----------\n")
	for _, s := range specs {
		left := "--" + s.Name
		typ := s.Type
		if typ == "" {
			typ = "String"
		}
		arg := typ
		if s.Describer != "" {
			arg += ": " + s.Describer
		}
		switch s.Arg {
		case RequiredArg:
			left += " <" + arg + ">"
		case OptionalArg:
			left += " [" + arg + "]"
		}
		desc := s.Desc
		if s.Default != "" {
			desc += " (default: " + s.Default + ")"
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
			}
			b.WriteString(strings.TrimRight(pad(l, leftWidth)+d, " ") + "\n")
		}
	}
	return b.String()
}

func pad(s string, w int) string {
	if len(s) >= w {
		return s + " "
	}
	return s + strings.Repeat(" ", w-len(s))
}

// wrap breaks s into lines of at most w characters at spaces (a longer word
// stays whole); explicit newlines are kept.
func wrap(s string, w int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) <= w:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}

// Common options every Kafka tool has (CommandDefaultOptions).
var (
	HelpSpec    = Spec{Name: "help", Desc: "Show this help."}
	VersionSpec = Spec{Name: "version", Desc: "Print the Kafka version these tools follow."}
)

// KafkaVersion is the Kafka release whose tools these reproduce; --version
// prints it.
const KafkaVersion = "3.9.0"
