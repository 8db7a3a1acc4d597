package testcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// ZKClient is a ZooKeeper client bound to a chroot: every path it takes is
// relative to the chroot of the connect string it was dialled with, as
// Kafka's paths are. It is for tests' assertions and fakes, never for
// production code.
type ZKClient struct {
	conn   *zk.Conn
	chroot string
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// Dial connects to a zookeeper.connect string ("host:port/chroot") and
// waits for the session; the client is closed at test cleanup.
func Dial(t testing.TB, connect string) *ZKClient {
	t.Helper()
	c, err := DialTimeout(connect, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// DialTimeout connects with a 10 s session and waits up to timeout for the
// session. The caller closes the client.
func DialTimeout(connect string, timeout time.Duration) (*ZKClient, error) {
	return DialSession(connect, 10*time.Second, timeout)
}

// DialSession connects asking for the given session timeout and waits up
// to timeout for the session. The caller closes the client.
func DialSession(connect string, session, timeout time.Duration) (*ZKClient, error) {
	servers, chroot, err := SplitConnect(connect)
	if err != nil {
		return nil, err
	}
	conn, events, err := zk.Connect(servers, session, zk.WithLogger(nopLogger{}))
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", connect, err)
	}
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go drain(events)
				return &ZKClient{conn: conn, chroot: chroot}, nil
			}
		case <-deadline:
			conn.Close()
			return nil, fmt.Errorf("zookeeper %s: no session after %v", connect, timeout)
		}
	}
}

func drain(events <-chan zk.Event) {
	for range events {
	}
}

// Close ends the session.
func (c *ZKClient) Close() { c.conn.Close() }

// Conn is the underlying client; its paths are absolute (see Path).
func (c *ZKClient) Conn() *zk.Conn { return c.conn }

// Chroot is the chroot ("" for none).
func (c *ZKClient) Chroot() string { return c.chroot }

// SessionID is the client's session id.
func (c *ZKClient) SessionID() int64 { return c.conn.SessionID() }

// Path maps a path inside the chroot to the server's absolute path.
func (c *ZKClient) Path(p string) string {
	if p == "/" || p == "" {
		if c.chroot == "" {
			return "/"
		}
		return c.chroot
	}
	return c.chroot + p
}

// Get reads a znode's data and stat. A missing znode is zk.ErrNoNode.
func (c *ZKClient) Get(p string) ([]byte, *zk.Stat, error) {
	return c.conn.Get(c.Path(p))
}

// GetJSON reads a znode and decodes its data into v.
func (c *ZKClient) GetJSON(p string, v any) (*zk.Stat, error) {
	data, st, err := c.Get(p)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return st, fmt.Errorf("%s: %w (data %q)", p, err, data)
	}
	return st, nil
}

// Exists reports whether a znode exists; its stat when it does.
func (c *ZKClient) Exists(p string) (bool, *zk.Stat, error) {
	return c.conn.Exists(c.Path(p))
}

// Children lists a znode's children, sorted as the server returns them.
func (c *ZKClient) Children(p string) ([]string, error) {
	kids, _, err := c.conn.Children(c.Path(p))
	return kids, err
}

// IsEphemeral reports whether the znode is ephemeral (has an owner session).
func (c *ZKClient) IsEphemeral(p string) (bool, error) {
	ok, st, err := c.Exists(p)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("%s: %w", p, zk.ErrNoNode)
	}
	return st.EphemeralOwner != 0, nil
}

// Create creates a znode (ephemeral ones belong to this client's session),
// creating missing parents as persistent znodes with null data.
func (c *ZKClient) Create(p string, data []byte, ephemeral bool) error {
	if err := c.ensureParents(p); err != nil {
		return err
	}
	var flags int32
	if ephemeral {
		flags = zk.FlagEphemeral
	}
	_, err := c.conn.Create(c.Path(p), data, flags, zk.WorldACL(zk.PermAll))
	return err
}

func (c *ZKClient) ensureParents(p string) error {
	full := c.Path(p)
	var cur string
	parts := strings.Split(strings.Trim(path.Dir(full), "/"), "/")
	for _, part := range parts {
		if part == "" {
			continue
		}
		cur += "/" + part
		_, err := c.conn.Create(cur, nil, 0, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", cur, err)
		}
	}
	return nil
}

// Set overwrites a znode's data whatever its version.
func (c *ZKClient) Set(p string, data []byte) error {
	_, err := c.conn.Set(c.Path(p), data, -1)
	return err
}

// DeleteAll deletes a znode and everything below it; a missing znode is
// not an error.
func (c *ZKClient) DeleteAll(p string) error {
	kids, _, err := c.conn.Children(c.Path(p))
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range kids {
		if err := c.DeleteAll(strings.TrimRight(p, "/") + "/" + k); err != nil {
			return err
		}
	}
	err = c.conn.Delete(c.Path(p), -1)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

// WaitFor polls the znode every 20 ms until cond holds (data and stat are
// nil when it does not exist) or ctx ends; it returns the last error seen
// with ctx's.
func (c *ZKClient) WaitFor(ctx context.Context, p string, cond func(data []byte, st *zk.Stat) bool) error {
	var last error
	for {
		data, st, err := c.Get(p)
		switch {
		case err == nil:
			if cond(data, st) {
				return nil
			}
		case errors.Is(err, zk.ErrNoNode):
			if cond(nil, nil) {
				return nil
			}
		default:
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", p, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", p, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Controller is the content of /controller.
type Controller struct {
	Version   int    `json:"version"`
	BrokerID  int32  `json:"brokerid"`
	Timestamp string `json:"timestamp"`
}

// Registration is the part of /brokers/ids/<id> the harness reads.
type Registration struct {
	Version   int      `json:"version"`
	Host      *string  `json:"host"`
	Port      int      `json:"port"`
	Endpoints []string `json:"endpoints"`
	Timestamp string   `json:"timestamp"`
}
