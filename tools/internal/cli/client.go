package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultAPITimeout is the Java clients' default.api.timeout.ms: how long a
// tool waits for an operation (including finding a broker at all).
const DefaultAPITimeout = 60 * time.Second

// hostPort is Utils.HOST_PORT_PATTERN: the last ":digits" is the port, an
// IPv6 host may be bracketed.
var hostPort = regexp.MustCompile(`^.*?\[?([0-9a-zA-Z\-%._:]*)\]?:([0-9]+)$`)

func splitHostPort(s string) (host string, port int, ok bool) {
	m := hostPort.FindStringSubmatch(s)
	if m == nil || m[1] == "" {
		return "", 0, false
	}
	p, err := strconv.Atoi(m[2])
	if err != nil || p > 65535 {
		return "", 0, false
	}
	return m[1], p, true
}

// ValidateBootstrapShape is ToolsUtils.validateBootstrapServer, the check
// the console producer and kafka-get-offsets run before anything else.
func ValidateBootstrapShape(list string) error {
	if strings.TrimSpace(list) == "" {
		return Errorf("Error while validating the bootstrap address")
	}
	for _, hp := range strings.Split(list, ",") {
		if _, _, ok := splitHostPort(hp); !ok {
			return Errorf("Please provide valid host:port like host1:9091,host2:9092")
		}
	}
	return nil
}

// BootstrapSeeds is ClientUtils.parseAndValidateAddresses: the
// comma-separated host:port list as seeds for the client. An entry without
// a port is "Invalid url in bootstrap.servers: x"; when no host resolves the
// error is "No resolvable bootstrap urls given in bootstrap.servers".
func BootstrapSeeds(ctx context.Context, list string) ([]string, error) {
	var seeds []string
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		host, port, ok := splitHostPort(raw)
		if !ok {
			return nil, Messagef("Invalid url in bootstrap.servers: %s", raw)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := net.DefaultResolver.LookupHost(rctx, host)
		cancel()
		if err != nil {
			continue // Java logs "Couldn't resolve server ..." and skips it
		}
		seeds = append(seeds, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	if len(seeds) == 0 {
		return nil, Messagef("%s", "No resolvable bootstrap urls given in bootstrap.servers")
	}
	return seeds, nil
}

// ClientConfig describes the kgo client a tool needs.
type ClientConfig struct {
	// Bootstrap is the --bootstrap-server list.
	Bootstrap string
	// Props are the Kafka client properties (from --command-config and the
	// like) the tool has not consumed itself. NewClient takes the ones it
	// understands; the caller reports the rest with NoteIgnored.
	Props Props
	// ClientID is the client.id used when Props has none.
	ClientID string
	// Opts are extra kgo options (producer or consumer settings).
	Opts []kgo.Opt
}

// Client is a connected kgo client plus the operation timeout the Java tool
// would use (default.api.timeout.ms).
type Client struct {
	*kgo.Client
	Timeout time.Duration
}

// Context returns a context bounded by the client's operation timeout.
func (c *Client) Context(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, c.Timeout)
}

func msProp(p Props, key string, def time.Duration) (time.Duration, error) {
	v, ok := p.Take(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, Messagef("Invalid value %s for configuration %s: Not a number of type LONG", v, key)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// NewClient validates the bootstrap list, applies the properties it
// understands (client.id, default.api.timeout.ms, request.timeout.ms,
// retry.backoff.ms, metadata.max.age.ms, socket.connection.setup.timeout.ms,
// security.protocol=PLAINTEXT) and returns the client. It does not contact
// a broker: the first request does.
func NewClient(ctx context.Context, cfg ClientConfig) (*Client, error) {
	p := cfg.Props
	if p == nil {
		p = Props{}
	}
	p.Take("bootstrap.servers") // --bootstrap-server wins, as in Kafka's tools
	if sp, ok := p.Take("security.protocol"); ok && !strings.EqualFold(strings.TrimSpace(sp), "PLAINTEXT") {
		return nil, Messagef("security.protocol=%s is not supported by this tool; only PLAINTEXT listeners can be used", sp)
	}
	apiTimeout, err := msProp(p, "default.api.timeout.ms", DefaultAPITimeout)
	if err != nil {
		return nil, err
	}
	reqTimeout, err := msProp(p, "request.timeout.ms", 30*time.Second)
	if err != nil {
		return nil, err
	}
	backoff, err := msProp(p, "retry.backoff.ms", 100*time.Millisecond)
	if err != nil {
		return nil, err
	}
	metaAge, err := msProp(p, "metadata.max.age.ms", 5*time.Minute)
	if err != nil {
		return nil, err
	}
	dial, err := msProp(p, "socket.connection.setup.timeout.ms", 10*time.Second)
	if err != nil {
		return nil, err
	}
	id := cfg.ClientID
	if v, ok := p.Take("client.id"); ok {
		id = v
	}
	seeds, err := BootstrapSeeds(ctx, cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID(id),
		kgo.RetryTimeout(apiTimeout),
		kgo.RequestTimeoutOverhead(reqTimeout),
		kgo.RetryBackoffFn(func(int) time.Duration { return backoff }),
		kgo.MetadataMaxAge(metaAge),
		kgo.MetadataMinAge(min(backoff, metaAge)),
		kgo.DialTimeout(dial),
	}
	opts = append(opts, cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &Client{Client: cl, Timeout: apiTimeout}, nil
}

// NoteIgnored writes one line naming the client properties a tool does not
// use, so a --command-config written for Kafka's tools is never silently
// half-applied.
func NoteIgnored(w io.Writer, tool string, p Props) {
	if len(p) == 0 {
		return
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "%s: note: ignoring client properties this tool does not support: %s\n", tool, strings.Join(keys, ", "))
}

// Unreachable reports whether err means no broker answered: the deadline
// passed or every connection attempt failed.
func Unreachable(err error) bool {
	var op *net.OpError
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &op)
}

// TimeoutError is the Java admin client's error when no broker could be
// reached in time, naming the call ("listTopics", "createTopics", ...), with
// the last connection error when there is one.
func TimeoutError(call string, err error) error {
	msg := "Timed out waiting for a node assignment. Call: " + call
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		msg += " (" + err.Error() + ")"
	}
	return Messagef("%s", msg)
}
