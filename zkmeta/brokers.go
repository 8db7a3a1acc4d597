package zkmeta

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/kbroker/kbroker/model"
)

// CreateTopLevelPaths creates the persistent bootstrap paths of §1.1
// (TopLevelPaths) with null data where missing.
func (c *Client) CreateTopLevelPaths(ctx context.Context) error {
	for _, p := range TopLevelPaths {
		if err := c.ensurePath(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// NewClusterID returns a fresh cluster id: 16 random bytes, URL-safe base64
// without padding (22 characters), like Kafka's generateUuidAsBase64.
func NewClusterID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// GetOrCreateClusterID returns the id in /cluster/id, creating the znode with
// proposed (or a fresh id when proposed is empty) if it does not exist. The
// first broker to create it wins; everyone else reads its id.
func (c *Client) GetOrCreateClusterID(ctx context.Context, proposed string) (string, error) {
	for range 5 {
		data, _, err := c.get(ctx, ClusterIDPath)
		if err == nil {
			return ParseClusterID(data)
		}
		if !errors.Is(err, zk.ErrNoNode) {
			return "", err
		}
		if proposed == "" {
			proposed = NewClusterID()
		}
		err = c.createRecursive(ctx, ClusterIDPath, MarshalClusterID(proposed), 0)
		if err == nil {
			return proposed, nil
		}
		if !errors.Is(err, zk.ErrNodeExists) {
			return "", err
		}
	}
	return "", fmt.Errorf("zkmeta: %s keeps appearing and vanishing", ClusterIDPath)
}

// GenerateBrokerID bumps /brokers/seqid (setData with any version, empty
// data) and returns its new zkVersion + reservedMax: 1001 first with
// reservedMax 1000.
func (c *Client) GenerateBrokerID(ctx context.Context, reservedMax int32) (int32, error) {
	for range 3 {
		var stat *zk.Stat
		err := c.retry(ctx, func(int) error {
			var err error
			stat, err = c.conn.Set(c.abs(BrokerSeqIDPath), []byte{}, -1)
			return err
		})
		if err == nil {
			return stat.Version + reservedMax, nil
		}
		if !errors.Is(err, zk.ErrNoNode) {
			return 0, fmt.Errorf("zkmeta: set %s: %w", BrokerSeqIDPath, err)
		}
		if err := c.ensurePath(ctx, BrokerSeqIDPath); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("zkmeta: %s could not be created", BrokerSeqIDPath)
}

// RegisterBroker creates the ephemeral /brokers/ids/<id> with a multi of
// [create(null, EPHEMERAL), setData(json, version 0)], so the znode ends at
// dataVersion 1, and returns the broker epoch (the znode's czxid).
//
// If the znode exists: owned by this client's current session, it is this
// registration (its data is updated in place if it differs); owned by one of
// this client's earlier, expired sessions, it is deleted and re-created
// (ZOOKEEPER-2985); owned by anyone else → ErrBrokerIDInUse.
func (c *Client) RegisterBroker(ctx context.Context, reg BrokerRegistration) (int64, error) {
	if reg.Timestamp == 0 {
		reg.Timestamp = time.Now().UnixMilli()
	}
	data := MarshalBrokerRegistration(reg)
	path := BrokerIDPath(reg.ID)
	if err := c.ensurePath(ctx, BrokerIDsPath); err != nil {
		return 0, err
	}
	for range 5 {
		var res multiResult
		err := c.retry(ctx, func(int) error {
			var err error
			res, err = c.multi(c.opCreate(path, nil, zk.FlagEphemeral), c.opSet(path, data, 0))
			return err
		})
		if err == nil {
			return res.Responses[1].Stat.Czxid, nil
		}
		if !errors.Is(res.OpErr, zk.ErrNodeExists) {
			return 0, fmt.Errorf("zkmeta: register broker %d: %w", reg.ID, err)
		}
		cur, stat, err := c.get(ctx, path)
		if errors.Is(err, zk.ErrNoNode) {
			continue // went away meanwhile
		}
		if err != nil {
			return 0, err
		}
		owner := stat.EphemeralOwner
		switch {
		case owner != 0 && owner == c.SessionID():
			if bytes.Equal(cur, data) {
				return stat.Czxid, nil
			}
			if _, err := c.set(ctx, path, data, stat.Version); err != nil {
				if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) {
					continue
				}
				return 0, err
			}
			return stat.Czxid, nil
		case c.isPreviousSession(owner):
			c.log.Info().Int32("broker", int32(reg.ID)).Int64("owner", owner).
				Msg("deleting registration left by this client's expired session")
			err := c.retry(ctx, func(int) error { return c.conn.Delete(c.abs(path), stat.Version) })
			if err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrBadVersion) {
				return 0, fmt.Errorf("zkmeta: delete stale %s: %w", path, err)
			}
		default:
			return 0, fmt.Errorf("%w: %s is held by session 0x%x (this session is 0x%x)",
				ErrBrokerIDInUse, path, owner, c.SessionID())
		}
	}
	return 0, fmt.Errorf("zkmeta: register broker %d: %s keeps changing", reg.ID, path)
}

// set is an unconditional-or-versioned setData with retries.
func (c *Client) set(ctx context.Context, path string, data []byte, version int32) (*zk.Stat, error) {
	var stat *zk.Stat
	err := c.retry(ctx, func(int) error {
		var err error
		stat, err = c.conn.Set(c.abs(path), data, version)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("zkmeta: set %s: %w", path, err)
	}
	return stat, nil
}

// GetBrokers reads every registered broker. A znode that cannot be parsed is
// skipped with a warning; one that vanishes while being read is skipped.
func (c *Client) GetBrokers(ctx context.Context) (map[model.BrokerID]RegisteredBroker, error) {
	kids, err := c.children(ctx, BrokerIDsPath)
	if errors.Is(err, zk.ErrNoNode) {
		return map[model.BrokerID]RegisteredBroker{}, nil
	}
	if err != nil {
		return nil, err
	}
	ids := parseBrokerIDs(kids)
	out := make(map[model.BrokerID]RegisteredBroker, len(ids))
	for _, id := range ids {
		data, stat, err := c.get(ctx, BrokerIDPath(id))
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		reg, err := ParseBrokerRegistration(id, data)
		if err != nil {
			c.log.Warn().Err(err).Int32("broker", int32(id)).Msg("ignoring unreadable broker registration")
			continue
		}
		out[id] = RegisteredBroker{BrokerRegistration: reg, Epoch: stat.Czxid}
	}
	return out, nil
}

// GetBroker reads one registration; ok is false when the broker is not
// registered.
func (c *Client) GetBroker(ctx context.Context, id model.BrokerID) (RegisteredBroker, bool, error) {
	data, stat, err := c.get(ctx, BrokerIDPath(id))
	if errors.Is(err, zk.ErrNoNode) {
		return RegisteredBroker{}, false, nil
	}
	if err != nil {
		return RegisteredBroker{}, false, err
	}
	reg, err := ParseBrokerRegistration(id, data)
	if err != nil {
		return RegisteredBroker{}, false, err
	}
	return RegisteredBroker{BrokerRegistration: reg, Epoch: stat.Czxid}, true, nil
}

func parseBrokerIDs(kids []string) []model.BrokerID {
	ids := make([]model.BrokerID, 0, len(kids))
	for _, k := range kids {
		if v, err := strconv.ParseInt(k, 10, 32); err == nil {
			ids = append(ids, model.BrokerID(v))
		}
	}
	slices.Sort(ids)
	return ids
}

// WatchBrokers lists the registered broker ids (sorted) and leaves a one-shot
// child watch on /brokers/ids: changed is closed when a broker registers or
// goes away, or when the session expires or the client closes.
func (c *Client) WatchBrokers(ctx context.Context) ([]model.BrokerID, <-chan struct{}, error) {
	kids, ch, err := c.childrenW(ctx, BrokerIDsPath)
	if err != nil {
		return nil, nil, err
	}
	return parseBrokerIDs(kids), ch, nil
}
