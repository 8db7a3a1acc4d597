package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/kbroker/kbroker/model"
)

// parseCSV splits a comma-separated list as Kafka's Csv.parseCsvList does:
// white space around commas is dropped, and so are empty elements.
func parseCSV(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseProtocolMap parses listener.security.protocol.map
// ("NAME:PROTOCOL,..."). Listener names are upper-cased (Kafka's
// ListenerName.normalised); protocol names are case-insensitive.
func parseProtocolMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, entry := range parseCSV(s) {
		name, proto, ok := strings.Cut(entry, ":")
		name, proto = strings.TrimSpace(name), strings.TrimSpace(proto)
		if !ok || name == "" || proto == "" || strings.Contains(proto, ":") {
			return nil, fmt.Errorf("entry %q is not of the form LISTENER_NAME:SECURITY_PROTOCOL", entry)
		}
		name = strings.ToUpper(name)
		p, err := securityProtocol(proto)
		if err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("listener name %s is mapped twice", name)
		}
		m[name] = p
	}
	return m, nil
}

func securityProtocol(s string) (string, error) {
	u := strings.ToUpper(s)
	for _, p := range securityProtocols {
		if u == p {
			return p, nil
		}
	}
	return "", fmt.Errorf("invalid security protocol %q (valid: %s)", s, strings.Join(securityProtocols, ", "))
}

// parseListeners parses "NAME://host:port,..." as Kafka's
// CoreUtils.listenerListToEndPoints does: the host may be empty (all
// interfaces), a name, an IPv4 address or an IPv6 address in brackets;
// listener names are upper-cased and must be distinct and mapped to a
// security protocol. With distinctPorts (listeners, not advertised
// listeners), two listeners may share a port only when one binds an IPv4 and
// the other an IPv6 address; port 0 (ephemeral) may repeat.
func parseListeners(s string, protocols map[string]string, distinctPorts bool) ([]model.Endpoint, error) {
	var eps []model.Endpoint
	names := map[string]bool{}
	for _, item := range parseCSV(s) {
		ep, err := parseEndpoint(item)
		if err != nil {
			return nil, err
		}
		proto, ok := protocols[ep.Listener]
		if !ok {
			return nil, fmt.Errorf("no security protocol defined for listener %s (add it to listener.security.protocol.map)", ep.Listener)
		}
		ep.SecurityProtocol = proto
		if names[ep.Listener] {
			return nil, fmt.Errorf("each listener must have a different name; %s appears twice in %q", ep.Listener, s)
		}
		names[ep.Listener] = true
		eps = append(eps, ep)
	}
	if distinctPorts {
		for i := range eps {
			for j := 0; j < i; j++ {
				a, b := eps[i], eps[j]
				if a.Port != b.Port || a.Port == 0 || ipv4v6Pair(a.Host, b.Host) {
					continue
				}
				return nil, fmt.Errorf("each listener must have a different port unless one uses an IPv4 and the other an IPv6 address; %s and %s both use port %d",
					b.Listener, a.Listener, a.Port)
			}
		}
	}
	return eps, nil
}

func ipv4v6Pair(a, b string) bool {
	ia, ib := net.ParseIP(a), net.ParseIP(b)
	if ia == nil || ib == nil {
		return false
	}
	return (ia.To4() != nil) != (ib.To4() != nil)
}

// parseEndpoint parses one "NAME://host:port".
func parseEndpoint(s string) (model.Endpoint, error) {
	bad := func(why string) (model.Endpoint, error) {
		return model.Endpoint{}, fmt.Errorf("unable to parse %q to a broker endpoint (expected NAME://host:port): %s", s, why)
	}
	name, rest, ok := strings.Cut(s, "://")
	if !ok {
		return bad("missing \"://\"")
	}
	if name == "" {
		return bad("empty listener name")
	}
	var host, port string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 || !strings.HasPrefix(rest[end+1:], ":") {
			return bad("malformed IPv6 address")
		}
		host, port = rest[1:end], rest[end+2:]
	} else {
		i := strings.LastIndex(rest, ":")
		if i < 0 {
			return bad("missing port")
		}
		host, port = rest[:i], rest[i+1:]
	}
	for _, c := range host {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune("-%._:", c)) {
			return bad(fmt.Sprintf("invalid character %q in host", c))
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return bad("port is not a number")
	}
	if p < 0 || p > 65535 {
		return bad("port out of range 0-65535")
	}
	return model.Endpoint{Listener: strings.ToUpper(name), Host: host, Port: int32(p)}, nil
}

// EndpointString renders an endpoint as Kafka writes it in
// /brokers/ids/<id> "endpoints": "NAME://host:port", IPv6 hosts in brackets.
func EndpointString(e model.Endpoint) string {
	return e.Listener + "://" + HostPort(e)
}

// HostPort renders "host:port" for dialling or binding (IPv6 in brackets;
// an empty host binds all interfaces).
func HostPort(e model.Endpoint) string {
	if e.Host == "" {
		return ":" + strconv.Itoa(int(e.Port))
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
}

// ZooKeeperServers returns the "host:port" servers of zookeeper.connect
// (without the chroot).
func (b Broker) ZooKeeperServers() []string {
	servers, _, _ := parseZKConnect(b.ZooKeeperConnect)
	return servers
}

// ZooKeeperChroot returns the chroot path of zookeeper.connect ("" for none).
func (b Broker) ZooKeeperChroot() string {
	_, chroot, _ := parseZKConnect(b.ZooKeeperConnect)
	return chroot
}

// parseZKConnect splits "h1:2181,h2:2181/chroot" as ZooKeeper's
// ConnectStringParser does: the chroot starts at the first '/', a port
// defaults to 2181. The chroot must be a valid ZooKeeper path ("/" alone
// means none).
func parseZKConnect(s string) (servers []string, chroot string, err error) {
	s = strings.TrimSpace(s)
	hosts := s
	if i := strings.Index(s, "/"); i >= 0 {
		hosts, chroot = s[:i], s[i:]
		if chroot == "/" {
			chroot = ""
		}
		if chroot != "" {
			if err := validZKPath(chroot); err != nil {
				return nil, "", fmt.Errorf("invalid chroot %q: %v", chroot, err)
			}
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, "", fmt.Errorf("empty server in %q", s)
		}
		host, port := h, "2181"
		if strings.HasPrefix(h, "[") {
			end := strings.Index(h, "]")
			if end < 0 {
				return nil, "", fmt.Errorf("malformed IPv6 server %q", h)
			}
			host = h[1:end]
			if rest := h[end+1:]; rest != "" {
				if !strings.HasPrefix(rest, ":") {
					return nil, "", fmt.Errorf("malformed server %q", h)
				}
				port = rest[1:]
			}
		} else if i := strings.LastIndex(h, ":"); i >= 0 {
			host, port = h[:i], h[i+1:]
		}
		if host == "" {
			return nil, "", fmt.Errorf("empty host in %q", h)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, "", fmt.Errorf("invalid port in %q", h)
		}
		servers = append(servers, net.JoinHostPort(host, port))
	}
	return servers, chroot, nil
}

// validZKPath applies ZooKeeper's PathUtils.validatePath rules that matter
// for a chroot.
func validZKPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("must start with /")
	case len(p) > 1 && strings.HasSuffix(p, "/"):
		return fmt.Errorf("must not end with /")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return fmt.Errorf("empty node name")
		case ".", "..":
			return fmt.Errorf("relative paths are not allowed")
		}
		for _, r := range seg {
			if r == 0 || r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0xd800 && r <= 0xf8ff) || (r >= 0xfff0 && r <= 0xffff) {
				return fmt.Errorf("invalid character %q", r)
			}
		}
	}
	return nil
}
