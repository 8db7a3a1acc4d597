package zkmeta

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/kbroker/kbroker/model"
)

// GetController returns the broker named by /controller; ok is false when
// there is no controller.
func (c *Client) GetController(ctx context.Context) (model.BrokerID, bool, error) {
	data, _, err := c.get(ctx, ControllerPath)
	if errors.Is(err, zk.ErrNoNode) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	id, err := ParseController(data)
	if err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// WatchController reads /controller and leaves a one-shot watch on it
// (exists watch when absent, data watch when present): changed is closed
// when it is created, changed or deleted, or when the session expires or
// the client closes.
func (c *Client) WatchController(ctx context.Context) (model.BrokerID, bool, <-chan struct{}, error) {
	data, stat, ch, err := c.getW(ctx, ControllerPath)
	if err != nil {
		return 0, false, nil, err
	}
	if stat == nil {
		return 0, false, ch, nil
	}
	id, err := ParseController(data)
	if err != nil {
		return 0, false, ch, err
	}
	return id, true, ch, nil
}

// GetControllerEpoch reads /controller_epoch; ok is false when it is absent.
func (c *Client) GetControllerEpoch(ctx context.Context) (epoch, zkVersion int32, ok bool, err error) {
	data, stat, err := c.get(ctx, ControllerEpochPath)
	if errors.Is(err, zk.ErrNoNode) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	epoch, err = ParseControllerEpoch(data)
	if err != nil {
		return 0, 0, false, err
	}
	return epoch, stat.Version, true, nil
}

// readOrCreateControllerEpoch returns /controller_epoch, creating it with
// "0" when missing (the first controller then gets epoch 1).
func (c *Client) readOrCreateControllerEpoch(ctx context.Context) (int32, int32, error) {
	for range 5 {
		epoch, version, ok, err := c.GetControllerEpoch(ctx)
		if err != nil {
			return 0, 0, err
		}
		if ok {
			return epoch, version, nil
		}
		err = c.createRecursive(ctx, ControllerEpochPath, MarshalControllerEpoch(0), 0)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return 0, 0, err
		}
	}
	return 0, 0, fmt.Errorf("zkmeta: %s keeps vanishing", ControllerEpochPath)
}

// ElectController tries to become the controller (§2.1): it reads
// /controller_epoch (E, zkVersion V; created as "0" if missing), then runs
// the multi [create /controller EPHEMERAL, setData /controller_epoch E+1
// at version V]. On success the Fence holds E+1 and the new zkVersion.
//
// When the multi fails with NodeExists or BadVersion, /controller is read
// again: if it names id and belongs to this session (a retried multi, or an
// earlier election by this session), that is success; otherwise
// ErrControllerExists. If /controller is absent (the epoch moved under a
// controller that already died), the election is tried again.
func (c *Client) ElectController(ctx context.Context, id model.BrokerID) (Fence, error) {
	for range 5 {
		epoch, version, err := c.readOrCreateControllerEpoch(ctx)
		if err != nil {
			return Fence{}, err
		}
		data := MarshalController(id, time.Now().UnixMilli())
		var res multiResult
		err = c.retry(ctx, func(int) error {
			var err error
			res, err = c.multi(
				c.opCreate(ControllerPath, data, zk.FlagEphemeral),
				c.opSet(ControllerEpochPath, MarshalControllerEpoch(epoch+1), version))
			return err
		})
		if err == nil {
			f := Fence{Epoch: epoch + 1, EpochZkVersion: res.Responses[1].Stat.Version}
			c.log.Info().Int32("broker", int32(id)).Int32("epoch", f.Epoch).
				Int32("epochZkVersion", f.EpochZkVersion).Msg("elected controller")
			return f, nil
		}
		if !errors.Is(res.OpErr, zk.ErrNodeExists) && !errors.Is(res.OpErr, zk.ErrBadVersion) {
			return Fence{}, fmt.Errorf("zkmeta: elect controller: %w", err)
		}
		cur, stat, err := c.get(ctx, ControllerPath)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return Fence{}, err
		}
		holder, perr := ParseController(cur)
		if perr == nil && holder == id && stat.EphemeralOwner != 0 && stat.EphemeralOwner == c.SessionID() {
			e, v, ok, err := c.GetControllerEpoch(ctx)
			if err != nil {
				return Fence{}, err
			}
			if ok {
				return Fence{Epoch: e, EpochZkVersion: v}, nil
			}
		}
		if perr != nil {
			return Fence{}, fmt.Errorf("%w (unreadable /controller: %v)", ErrControllerExists, perr)
		}
		return Fence{}, fmt.Errorf("%w: broker %d holds /controller", ErrControllerExists, holder)
	}
	return Fence{}, fmt.Errorf("zkmeta: elect controller: %s keeps changing", ControllerEpochPath)
}

// ResignController deletes /controller if this session owns it, fenced by f
// (so a controller that already lost its epoch deletes nothing:
// ErrControllerMoved). Absent, or owned by another session: nothing to do.
func (c *Client) ResignController(ctx context.Context, f Fence) error {
	for range 5 {
		_, stat, err := c.get(ctx, ControllerPath)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if stat.EphemeralOwner == 0 || stat.EphemeralOwner != c.SessionID() {
			return nil
		}
		_, err = c.fencedMulti(ctx, f, "resign controller",
			[]any{c.opDelete(ControllerPath, stat.Version)}, nil)
		if err == nil || errors.Is(err, ErrControllerMoved) {
			return err
		}
		if !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrBadVersion) {
			return err
		}
	}
	return fmt.Errorf("zkmeta: resign controller: %s keeps changing", ControllerPath)
}
